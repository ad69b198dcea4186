package events

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
)

func TestSubscribeReplaysPastAndStreamsLive(t *testing.T) {
	l := NewLog(3)
	start := time.Now()
	for _, a := range []string{"pull", "tag", "untag", "delete"} {
		l.Publish(engine.Event{Type: "image", Action: a, ID: "busybox"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := l.Subscribe(ctx, engine.EventFilter{Since: start.UnixNano(), Actions: []string{"tag", "untag", "delete", "push"}})
	// The oldest event fell out of the 3-event history.
	for _, want := range []string{"tag", "untag", "delete"} {
		if e := <-ch; e.Action != want {
			t.Fatalf("replayed %q, want %q", e.Action, want)
		}
	}
	l.Publish(engine.Event{Type: "image", Action: "pull", ID: "x"}) // filtered out
	l.Publish(engine.Event{Type: "image", Action: "push", ID: "x"})
	select {
	case e := <-ch:
		if e.Action != "push" {
			t.Fatalf("live event %q, want push", e.Action)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no live event")
	}
	cancel()
	for range ch {
	}
}

func TestSubscribeWithoutSinceSkipsHistoryAndUntilEnds(t *testing.T) {
	l := NewLog(0)
	l.Publish(engine.Event{Type: "image", Action: "pull"})
	ch := l.Subscribe(context.Background(), engine.EventFilter{Until: time.Now().Add(50 * time.Millisecond).UnixNano()})
	n := 0
	for range ch {
		n++
	}
	if n != 0 {
		t.Errorf("got %d events, want none (no --since, nothing live)", n)
	}
}

func TestMatch(t *testing.T) {
	e := engine.Event{Type: "image", Action: "tag", ID: "sha256:abc", Attributes: map[string]string{"name": "busybox:latest"}, Time: time.Unix(100, 0)}
	tests := []struct {
		f    engine.EventFilter
		want bool
	}{
		{engine.EventFilter{}, true},
		{engine.EventFilter{Types: []string{"container"}}, false},
		{engine.EventFilter{Types: []string{"container", "image"}}, true},
		{engine.EventFilter{IDs: []string{"busybox:latest"}}, true},
		{engine.EventFilter{IDs: []string{"sha256:abc"}}, true},
		{engine.EventFilter{IDs: []string{"nginx"}}, false},
		{engine.EventFilter{Until: time.Unix(99, 0).UnixNano()}, false},
	}
	for i, tt := range tests {
		if got := Match(tt.f, e); got != tt.want {
			t.Errorf("case %d: Match = %v, want %v", i, got, tt.want)
		}
	}
}
