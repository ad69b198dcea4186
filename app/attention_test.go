package app

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAttentionNotifiesLongJobsInTheBackground(t *testing.T) {
	long, short := time.Now().Add(-12*time.Second), time.Now().Add(-2*time.Second)
	for _, tt := range []struct {
		name       string
		background bool
		started    time.Time
		err        error
		want       string
	}{
		{"long, in the background", true, long, nil, "Pull busybox:1.36 finished: It took 12s."},
		{"long and failed", true, long, errors.New("manifest unknown"), "Pull busybox:1.36 failed: After 12s: manifest unknown"},
		{"the window has the focus", false, long, nil, ""},
		{"short", true, short, nil, ""},
		{"cancelled", true, long, context.Canceled, ""},
	} {
		var got string
		a := &Attention{Notify: func(title, body string) { got = title + ": " + body }}
		a.SetBackground(tt.background)
		sent := a.Done("Pull busybox:1.36", tt.started, tt.err)
		if got != tt.want || sent != (tt.want != "") {
			t.Errorf("%s: %q (sent %v), want %q", tt.name, got, sent, tt.want)
		}
	}
}
