// Package events keeps the daemon's recent events and streams them to
// subscribers, so clients (the app, `docker events`) never poll. It is an
// instance passed to whoever publishes, not a package-global bus.
package events
