//go:build !linux

package store

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-dev/berth/engine"
)

// Layers are unpacked only where containers run: on Linux, natively or in
// Berth's VM.
func unpack(ctx context.Context, r io.Reader, dir string) (int64, error) {
	return 0, fmt.Errorf("unpack layers: %w on this OS (the engine runs in Berth's Linux VM)", engine.ErrNotSupported)
}

func syncFS(dir string) error { return nil }
