package enginetest

import (
	"net"
	"testing"
)

// FreePort is a loopback TCP port nothing listens on now, for a test to
// publish a container's port on or serve from.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
