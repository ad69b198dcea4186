package events

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// DefaultCapacity is how many past events a Log keeps for `--since`.
const DefaultCapacity = 1024

// Log is a bounded history of events plus live subscribers.
type Log struct {
	mu       sync.Mutex
	past     []engine.Event // ring, oldest at start
	capacity int
	subs     map[chan engine.Event]engine.EventFilter
}

// NewLog returns a Log that keeps up to capacity past events (DefaultCapacity when <= 0).
func NewLog(capacity int) *Log {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Log{capacity: capacity, subs: map[chan engine.Event]engine.EventFilter{}}
}

// Publish records e and hands it to every matching subscriber. A
// subscriber too slow to keep up loses events rather than stalling the
// engine.
func (l *Log) Publish(e engine.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.past) == l.capacity {
		copy(l.past, l.past[1:])
		l.past = l.past[:len(l.past)-1]
	}
	l.past = append(l.past, e)
	for ch, f := range l.subs {
		if Match(f, e) {
			select {
			case ch <- e:
			default:
			}
		}
	}
}

// Subscribe streams past events since filter.Since, then live ones, until
// ctx ends or filter.Until passes. The channel is closed at the end.
func (l *Log) Subscribe(ctx context.Context, filter engine.EventFilter) <-chan engine.Event {
	out := make(chan engine.Event, 256)
	l.mu.Lock()
	var backlog []engine.Event
	if filter.Since != 0 {
		for _, e := range l.past {
			if Match(filter, e) && e.Time.UnixNano() >= filter.Since {
				backlog = append(backlog, e)
			}
		}
	}
	live := make(chan engine.Event, 256)
	now := time.Now().UnixNano()
	if filter.Until == 0 || filter.Until > now {
		l.subs[live] = filter
	} else {
		close(live)
	}
	l.mu.Unlock()

	go func() {
		defer close(out)
		defer l.unsubscribe(live)
		for _, e := range backlog {
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
		var deadline <-chan time.Time
		if filter.Until != 0 {
			timer := time.NewTimer(time.Until(time.Unix(0, filter.Until)))
			defer timer.Stop()
			deadline = timer.C
		}
		for {
			select {
			case e, ok := <-live:
				if !ok {
					return
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			case <-deadline:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (l *Log) unsubscribe(ch chan engine.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.subs, ch)
}

// Match reports whether e passes f.
func Match(f engine.EventFilter, e engine.Event) bool {
	if f.Until != 0 && e.Time.UnixNano() > f.Until {
		return false
	}
	if len(f.Types) > 0 && !oneOf(f.Types, e.Type) {
		return false
	}
	if len(f.Actions) > 0 && !oneOf(f.Actions, e.Action) {
		return false
	}
	if len(f.IDs) > 0 && !oneOf(f.IDs, e.ID) && !oneOf(f.IDs, e.Attributes["name"]) {
		return false
	}
	return true
}

func oneOf(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Interface guards.
var _ engine.Events = (*Log)(nil)
