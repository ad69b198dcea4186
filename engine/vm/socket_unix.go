//go:build !windows

package vm

import (
	"net"
	"os"
	"path/filepath"
)

// DefaultSocket is where the helper serves the engine: a unix socket in
// the VM's folder.
func DefaultSocket(dir string) string { return filepath.Join(dir, "engine.sock") }

// SocketAddress is the engine address (DOCKER_HOST form) of a socket.
func SocketAddress(socket string) string { return "unix://" + socket }

// listenEngine serves the socket; only the user who runs the helper may
// open it (mode 0600), so only they can drive the engine.
func listenEngine(socket string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
		return nil, err
	}
	os.Remove(socket) // a stale socket from a helper that died
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func removeSocket(socket string) { os.Remove(socket) }
