package layers

import (
	"fmt"
	"io/fs"
	"testing"
)

// syntheticImage has 100,000 files and 1 GB across 5 layers: each layer
// adds 20,000 files of ~10 KiB in 200 directories, overwrites 1,000 files
// of the layer below and deletes 100 of them.
func syntheticImage() []LayerInput {
	const layers, files, dirs = 5, 20_000, 200
	var inputs []LayerInput
	for l := 0; l < layers; l++ {
		var entries []Entry
		for d := 0; d < dirs; d++ {
			entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d", l, d), Mode: fs.ModeDir | 0o755})
		}
		for f := 0; f < files; f++ {
			entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d/f%d", l, f%dirs, f), Mode: 0o644, Size: 10_737})
		}
		if l > 0 {
			for f := 0; f < 1000; f++ {
				entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d/f%d", l-1, f%dirs, f), Mode: 0o644, Size: 5000})
			}
			for f := 1000; f < 1100; f++ {
				entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d/f%d", l-1, f%dirs, f), Whiteout: true})
			}
		}
		inputs = append(inputs, LayerInput{CreatedBy: fmt.Sprintf("RUN step %d", l), Entries: entries})
	}
	return inputs
}

func BenchmarkAnalyze100kFiles1GB(b *testing.B) {
	inputs := syntheticImage()
	b.ReportAllocs()
	b.ResetTimer()
	var a *Analysis
	for i := 0; i < b.N; i++ {
		a = Analyze(inputs)
	}
	b.StopTimer()
	if a.TotalBytes < 1<<30 || len(a.Layers) != 5 {
		b.Fatalf("synthetic image is not what it claims: %d bytes", a.TotalBytes)
	}
}
