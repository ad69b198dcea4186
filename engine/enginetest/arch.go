package enginetest

import "runtime"

func hostArch() string { return runtime.GOARCH }
