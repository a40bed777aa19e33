package domain_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
)

func BenchmarkDecodeListing(b *testing.B) {
	images := make([]any, domain.DefaultLimits.MaxImages)
	for i := range images {
		images[i] = fmt.Sprintf("https://img.example.com/listing/123456/%02d.jpg", i)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"typical", readFile(b, "testdata/listing.good.json")},
		{"at caps", patch(b, "listing.good.json",
			"title", strings.Repeat("t", domain.DefaultLimits.MaxTitleBytes),
			"description", strings.Repeat("description ", domain.DefaultLimits.MaxDescriptionBytes/12),
			"images", images)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := domain.DecodeListing(tc.data, domain.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckShapeHostile measures refusing a 20 KB body nested 10,000
// levels deep, which the depth pre-scan does in one pass, against the
// walk of a typical listing.
func BenchmarkCheckShapeHostile(b *testing.B) {
	cases := []struct {
		name string
		data []byte
	}{
		{"typical listing", readFile(b, "testdata/listing.good.json")},
		{"10000 levels deep", []byte(`{"title":` + nested(10000, "") + `}`)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				_ = domain.CheckShape(tc.data, reflect.TypeFor[domain.Listing]())
			}
		})
	}
}
