package runtime

import "github.com/opencontainers/runc/libcontainer"

func initContainer() { libcontainer.Init() }
