package main

import (
	"net/http"

	"github.com/berth-dev/berth/engine/memtrim"
)

// trimAfterRequests counts each request as work for t, so berthd gives
// memory back once requests stop coming after a burst of them.
func trimAfterRequests(t *memtrim.Trimmer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Touch()
		h.ServeHTTP(w, r)
	})
}
