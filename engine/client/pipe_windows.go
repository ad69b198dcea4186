package client

import (
	"context"
	"net"
	"strings"

	"github.com/Microsoft/go-winio"
)

// dialPipe opens a named pipe given as docker writes it
// (npipe:////./pipe/docker_engine).
func dialPipe(ctx context.Context, addr string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, strings.ReplaceAll(addr, "/", `\`))
}
