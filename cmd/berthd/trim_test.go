package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/memtrim"
)

func TestRequestsAreWorkForTheTrimmer(t *testing.T) {
	tr := &memtrim.Trimmer{Quiet: 5 * time.Second}
	h := trimAfterRequests(tr, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/_ping", nil))
	if tr.Due(time.Now()) || !tr.Due(time.Now().Add(6*time.Second)) {
		t.Fatal("a request is not counted as work: no trim once quiet, or one at once")
	}
}
