//go:build !linux

package store

import "os"

// The engine runs on Linux (natively or in Berth's VM); elsewhere the store
// is only compiled, so a plain open file stands in for the lock.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
