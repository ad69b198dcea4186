package runtime

import (
	"context"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// BenchmarkRunTrue is create + start + wait + remove of `true` in the
// busybox image, in process: the engine's own cost of a container, to set
// beside `runc run` on the same root filesystem (bench/run.sh).
func BenchmarkRunTrue(b *testing.B) {
	e := newEnvTB(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id, err := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Cmd: []string{"true"}})
		if err != nil {
			b.Fatal(err)
		}
		wait, err := e.rt.Wait(ctx, id, "next-exit")
		if err != nil {
			b.Fatal(err)
		}
		if err := e.rt.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if code, err := wait(); err != nil || code != 0 {
			b.Fatalf("exit %d, %v", code, err)
		}
		if err := e.rt.Remove(ctx, id, false, true); err != nil {
			b.Fatal(err)
		}
	}
}
