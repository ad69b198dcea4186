//go:build !linux

package layers

import (
	"fmt"

	"github.com/berth-dev/berth/engine"
)

// EntriesFromDir needs the store's unpacked layers, which exist on Linux
// (natively or in Berth's VM); elsewhere analyse an image tarball instead.
func EntriesFromDir(dir string) ([]Entry, error) {
	return nil, fmt.Errorf("unpacked layers: %w on this OS; use an image tarball", engine.ErrNotSupported)
}
