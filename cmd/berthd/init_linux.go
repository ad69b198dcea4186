package main

import (
	"os"

	"github.com/berth-dev/berth/engine/runtime"
	// nsenter's C constructor joins namespaces before the Go runtime starts.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// berthd is also the init of every container: libcontainer re-executes
// this binary (sealed against overwrites) as "berthd init".
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init()
	}
}
