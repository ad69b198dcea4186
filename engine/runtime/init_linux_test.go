package runtime

import (
	"os"
	"testing"

	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// The test binary is also the container init: libcontainer re-executes
// /proc/self/exe with "init" inside the new namespaces.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		Init()
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
