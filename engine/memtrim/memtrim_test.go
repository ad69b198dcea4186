package memtrim

import (
	"testing"
	"time"
)

func TestTrimWaitsForQuiet(t *testing.T) {
	tr := &Trimmer{Quiet: 5 * time.Second}
	if tr.Due(time.Now().Add(time.Hour)) {
		t.Fatal("a trim before any work")
	}
	tr.Touch()
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{time.Second, false},    // still busy
		{6 * time.Second, true}, // quiet: trim once
		{7 * time.Second, false},
	} {
		if got := tr.Due(time.Now().Add(tc.after)); got != tc.want {
			t.Errorf("%v after the last work: due %v, want %v", tc.after, got, tc.want)
		}
	}
}
