// Package api serves the Docker Engine API over Berth's engine, so the
// desktop app and the stock docker CLI are both its clients. Wire types
// come from the official github.com/moby/moby/api module; the handler
// converts between them and Berth's own engine types at this one edge.
//
// Paths may carry a version prefix (/v1.47/images/json); the server speaks
// MinAPIVersion through APIVersion and answers the same for all of them.
package api
