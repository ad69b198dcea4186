package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/events"
)

// Subscribe follows the engine's /events stream. The channel closes when
// ctx ends or the connection drops (the caller reconnects if it wants).
func (c *Client) Subscribe(ctx context.Context, filter engine.EventFilter) <-chan engine.Event {
	out := make(chan engine.Event, 64)
	q := url.Values{}
	if filter.Since != 0 {
		q.Set("since", timestamp(filter.Since))
	}
	if filter.Until != 0 {
		q.Set("until", timestamp(filter.Until))
	}
	f := map[string][]string{}
	if len(filter.Types) > 0 {
		f["type"] = filter.Types
	}
	if len(filter.Actions) > 0 {
		f["event"] = filter.Actions
	}
	if len(f) > 0 {
		b, _ := json.Marshal(f)
		q.Set("filters", string(b))
	}
	go func() {
		defer close(out)
		resp, err := c.do(ctx, http.MethodGet, "/events", q, nil)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var m events.Message
			if err := dec.Decode(&m); err != nil {
				return
			}
			e := engine.Event{Type: string(m.Type), Action: string(m.Action), ID: m.Actor.ID, Attributes: m.Actor.Attributes, Time: time.Unix(0, m.TimeNano)}
			if m.TimeNano == 0 {
				e.Time = time.Unix(m.Time, 0)
			}
			if len(filter.IDs) > 0 && !matchID(filter.IDs, e) {
				continue
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func matchID(ids []string, e engine.Event) bool {
	for _, id := range ids {
		if id == e.ID || id == e.Attributes["name"] {
			return true
		}
	}
	return false
}

func timestamp(nanos int64) string {
	return fmt.Sprintf("%d.%09d", nanos/1e9, nanos%1e9)
}

var _ engine.Events = (*Client)(nil)
