package main

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync"
	"time"
)

// idleTrimmer gives memory back to the system once requests stop coming
// after a burst of them. Go hands freed heap back over minutes; after a
// hundred starts at once a desktop's engine would stay tens of megabytes
// larger than when idle for that long. Requests still open (an app that
// follows events, logs -f, a long pull) do not hold the trim back: it is
// one garbage collection, harmless at any time.
type idleTrimmer struct {
	quiet time.Duration // how long without a new request counts as idle

	mu    sync.Mutex
	last  time.Time // when the last request came
	dirty bool      // requests came since the last trim
}

func (t *idleTrimmer) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		t.last, t.dirty = time.Now(), true
		t.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// due says whether requests have stopped for the quiet time since the last
// trim, and marks the trim done.
func (t *idleTrimmer) due(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.dirty || now.Sub(t.last) < t.quiet {
		return false
	}
	t.dirty = false
	return true
}

// run trims until ctx ends.
func (t *idleTrimmer) run(ctx context.Context) {
	tick := time.NewTicker(t.quiet / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if t.due(now) {
				debug.FreeOSMemory()
			}
		}
	}
}
