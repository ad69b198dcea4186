//go:build !linux

package store

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-dev/berth/engine"
)

func packDir(ctx context.Context, dir string, w io.Writer) (packed, error) {
	return packed{}, fmt.Errorf("making layers: %w", engine.ErrNotSupported)
}
