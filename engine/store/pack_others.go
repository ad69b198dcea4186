//go:build !linux

package store

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-dev/berth/engine"
)

func packDir(ctx context.Context, dir string, w io.Writer) (int, int64, error) {
	return 0, 0, fmt.Errorf("making layers: %w", engine.ErrNotSupported)
}
