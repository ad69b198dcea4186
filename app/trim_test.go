package app

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

// The app gives memory back once its first lists are loaded and after a
// long job, when it has been quiet for a while.
func TestCoreTrimsWhenQuiet(t *testing.T) {
	f := enginetest.NewFake()
	c := NewCore(context.Background(), Roles{Images: f, Registry: f, Archives: f, Events: f, Builder: f, Containers: f.Containers(), Disk: f, Volumes: f}, Settings{}, nil)
	defer c.Close()
	later := func() time.Time { return time.Now().Add(c.trim.Quiet + time.Second) }
	c.Follow()
	for deadline := time.Now().Add(10 * time.Second); !c.trim.Due(later()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no trim is due after the first lists are loaded")
		}
	}
	c.Attention.Done("Pull busybox", time.Now(), nil)
	if c.trim.Due(time.Now()) || !c.trim.Due(later()) {
		t.Fatal("a job's end is not followed by a trim once quiet")
	}
}
