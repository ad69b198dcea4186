//go:build !linux

package api

// The daemon runs on Linux (natively or in Berth's VM); elsewhere these
// facts are not reported.
func kernelVersion() string { return "" }

func memTotal() int64 { return 0 }
