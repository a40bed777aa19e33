package domain_test

import (
	"fmt"
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
