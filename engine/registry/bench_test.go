package registry

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/store"
)

// BenchmarkPullReadyToRun pulls $BERTH_BENCH_IMAGE (for example the
// debootstrap python image bench/pull.sh pushes to 127.0.0.1:5000) into an
// empty store until it is unpacked and ready to run. It also reports the
// time until the last blob was downloaded and verified ("download-s"), to
// compare with skopeo, which stops there.
func BenchmarkPullReadyToRun(b *testing.B) {
	ref := os.Getenv("BERTH_BENCH_IMAGE")
	if ref == "" {
		b.Skip("set BERTH_BENCH_IMAGE to an image in a loopback registry (see bench/pull.sh)")
	}
	var download time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir, err := os.MkdirTemp("/var/tmp", "berth-bench-")
		if err != nil {
			b.Fatal(err)
		}
		s, err := store.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		r := New(s, anonymous)
		var mu sync.Mutex
		var lastDownloaded time.Time
		b.StartTimer()
		start := time.Now()
		_, err = r.Pull(context.Background(), ref, nil, func(p engine.Progress) {
			if p.Status == engine.ProgressDownloaded {
				mu.Lock()
				lastDownloaded = time.Now()
				mu.Unlock()
			}
		})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		download += lastDownloaded.Sub(start)
		s.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(download.Seconds()/float64(b.N), "download-s")
}
