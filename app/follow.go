package app

import (
	"context"
	"time"

	"github.com/berth-dev/berth/engine"
)

// Follow keeps the state holders current from the engine's /events stream
// (no polling: an idle window asks nothing). A burst of events causes one
// refresh; a dropped stream is reopened with back-off until ctx ends.
func Follow(ctx context.Context, ev engine.Events, images *Images, containers *Containers) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		since := time.Now().UnixNano()
		ch := ev.Subscribe(ctx, engine.EventFilter{Since: since})
		got := false
		var imgT, ctrT <-chan time.Time
	loop:
		for {
			select {
			case e, ok := <-ch:
				if !ok {
					break loop
				}
				got = true
				switch e.Type {
				case "image":
					if imgT == nil {
						imgT = time.After(100 * time.Millisecond)
					}
				case "container":
					if ctrT == nil {
						ctrT = time.After(100 * time.Millisecond)
					}
					if imgT == nil && (e.Action == "create" || e.Action == "destroy") {
						imgT = time.After(100 * time.Millisecond) // image use counts
					}
				}
			case <-imgT:
				imgT = nil
				if images != nil {
					images.Refresh(ctx)
				}
			case <-ctrT:
				ctrT = nil
				if containers != nil {
					containers.Refresh(ctx)
				}
			case <-ctx.Done():
				return
			}
		}
		if got {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		// Catch up with what happened while the stream was down.
		if images != nil {
			images.Refresh(ctx)
		}
		if containers != nil {
			containers.Refresh(ctx)
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}
