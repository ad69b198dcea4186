package layers_test

import (
	"fmt"

	"github.com/berth-dev/berth/engine/layers"
)

// Analyze takes each layer's tar entries, base first, and says what each
// layer added, changed and removed, and which bytes no one will ever see:
// here a 4 MB download the next step deleted.
func ExampleAnalyze() {
	a := layers.Analyze([]layers.LayerInput{
		{CreatedBy: "FROM busybox", Entries: []layers.Entry{
			{Path: "bin", Mode: 0o755 | 1<<31}, {Path: "bin/busybox", Mode: 0o755, Size: 1_000_000},
		}},
		{CreatedBy: "RUN wget -O /tmp/app.tgz …", Entries: []layers.Entry{
			{Path: "tmp", Mode: 0o1777 | 1<<31}, {Path: "tmp/app.tgz", Mode: 0o644, Size: 4_000_000},
		}},
		{CreatedBy: "RUN rm /tmp/app.tgz", Entries: []layers.Entry{
			{Path: "tmp", Mode: 0o1777 | 1<<31}, {Path: "tmp/app.tgz", Whiteout: true},
		}},
	})
	for _, l := range a.Layers {
		fmt.Printf("%d %-26s +%d ~%d -%d\n", l.Index, l.CreatedBy, l.Added, l.Modified, l.Removed)
	}
	fmt.Printf("wasted %d bytes, efficiency %.0f%%\n", a.Wasted, a.Efficiency*100)
	for _, w := range a.WastedPaths {
		fmt.Println(w.Path, w.Bytes, w.Layers)
	}
	// Output:
	// 0 FROM busybox               +2 ~0 -0
	// 1 RUN wget -O /tmp/app.tgz … +2 ~0 -0
	// 2 RUN rm /tmp/app.tgz        +0 ~0 -1
	// wasted 4000000 bytes, efficiency 20%
	// tmp/app.tgz 4000000 [1 2]
}
