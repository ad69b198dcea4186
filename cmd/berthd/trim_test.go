package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestIdleTrimmerWaitsForQuiet(t *testing.T) {
	tr := &idleTrimmer{quiet: 5 * time.Second}
	h := tr.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	start := time.Now()
	if tr.due(start.Add(time.Hour)) {
		t.Fatal("a trim before any request")
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/_ping", nil))
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{time.Second, false},    // still busy
		{6 * time.Second, true}, // quiet: trim once
		{7 * time.Second, false},
	} {
		if got := tr.due(time.Now().Add(tc.after)); got != tc.want {
			t.Errorf("%v after the last request: due %v, want %v", tc.after, got, tc.want)
		}
	}
}
