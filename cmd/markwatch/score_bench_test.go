package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/markwatch/markwatch/fixtures/benchstream"
)

// BenchmarkScoreCommand runs `markwatch score` (the whole batch path:
// building the engine, strict JSON decoding, scoring with every core,
// encoding results) over files of fixtures/benchstream: 20,000 listings of
// the repetitive stream and of the never-seen-words stream, against
// 10,000 and 100,000 marks, with the shipped configuration. It reports
// listings per second of wall time (engine build included, as a user of
// the command sees it) and the process's CPU time per listing, which other
// load on a shared machine does not inflate.
func BenchmarkScoreCommand(b *testing.B) {
	const listings = 20_000
	for _, nMarks := range []int{10_000, 100_000} {
		dir := b.TempDir()
		if err := benchstream.WriteFiles(dir, nMarks, listings, 1); err != nil {
			b.Fatal(err)
		}
		for _, file := range []string{benchstream.RepetitiveFile, benchstream.NovelFile} {
			name := fmt.Sprintf("%s/%dk", file[:len(file)-len(".jsonl")], nMarks/1000)
			b.Run(name, func(b *testing.B) {
				args := []string{"-quiet", "-marks", filepath.Join(dir, benchstream.MarksFile),
					"-listings", filepath.Join(dir, file), "-out", os.DevNull}
				cpu0 := benchstream.ProcessCPU()
				start := time.Now()
				for range b.N {
					if err := runScore(context.Background(), args, io.Discard, io.Discard); err != nil {
						b.Fatal(err)
					}
				}
				n := float64(b.N * listings)
				b.ReportMetric(n/time.Since(start).Seconds(), "listings/s")
				b.ReportMetric(float64((benchstream.ProcessCPU()-cpu0).Nanoseconds())/1e3/n, "cpu-µs/listing")
			})
		}
	}
}
