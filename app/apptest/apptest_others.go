//go:build !linux

package apptest

import (
	"testing"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/enginetest"
)

// Engine is a berthd of the test's own and a registry holding busybox.
type Engine struct {
	Core       *app.Core
	Registry   *enginetest.Registry
	BusyboxRef string
}

// Start skips: Berth's engine runs on Linux (elsewhere in its VM).
func Start(t testing.TB) *Engine {
	t.Skip("Berth's engine runs natively on Linux only")
	return nil
}
