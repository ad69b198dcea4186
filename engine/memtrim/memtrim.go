// Package memtrim gives a long-running process's freed memory back to the
// system once it goes quiet after a burst of work. Go hands freed heap
// back over minutes; a desktop's engine after a hundred container starts,
// or the app after it parsed its fonts and first lists, would otherwise
// stay tens of megabytes larger than it needs to while it idles.
package memtrim

import (
	"context"
	"runtime/debug"
	"sync"
	"time"
)

// Trimmer trims once work has stopped for Quiet. Work still under way (a
// followed event stream, a long pull) does not hold it back: a trim is one
// garbage collection, harmless at any time.
type Trimmer struct {
	Quiet time.Duration // how long without new work counts as quiet

	mu    sync.Mutex
	last  time.Time // when work last came
	dirty bool      // work came since the last trim
}

// Touch says work came now.
func (t *Trimmer) Touch() {
	t.mu.Lock()
	t.last, t.dirty = time.Now(), true
	t.mu.Unlock()
}

// Due says whether work has stopped for Quiet since the last trim, and
// marks the trim done.
func (t *Trimmer) Due(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.dirty || now.Sub(t.last) < t.Quiet {
		return false
	}
	t.dirty = false
	return true
}

// Run trims whenever it is due, until ctx ends.
func (t *Trimmer) Run(ctx context.Context) {
	tick := time.NewTicker(t.Quiet / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if t.Due(now) {
				debug.FreeOSMemory()
			}
		}
	}
}
