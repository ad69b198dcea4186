// Package engine holds Berth's own types and the small role interfaces that
// the desktop app and the daemon's API are written against.
//
// It imports only the standard library. Implementations live in
// subpackages named after what they touch: store (images on disk),
// registry (pull, push, search), events (the daemon's event log), api (the
// Docker Engine API server over all of them).
package engine
