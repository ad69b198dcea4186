//go:build !windows

package client

import (
	"context"
	"fmt"
	"net"

	"github.com/berth-dev/berth/engine"
)

func dialPipe(context.Context, string) (net.Conn, error) {
	return nil, fmt.Errorf("named pipes (npipe://) exist only on Windows: %w", engine.ErrNotSupported)
}
