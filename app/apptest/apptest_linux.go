package apptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/enginetest"
)

var seq atomic.Int32

// Engine is a berthd of the test's own and a registry holding busybox.
type Engine struct {
	Core *app.Core
	// Registry serves BusyboxRef.
	Registry   *enginetest.Registry
	BusyboxRef string
}

// Start starts berthd through app.Open on a socket, data root and
// bridge of the test's own; it is stopped when the test ends.
func Start(t testing.TB) *Engine {
	t.Helper()
	UseBuiltBerthd(t)
	dir := t.TempDir()
	n := seq.Add(1)
	pid := os.Getpid() % 100000
	bridge, bip := fmt.Sprintf("bat%d-%d", pid, n), fmt.Sprintf("10.%d.%d.1/24", 100+pid%40, 100+n%100)
	t.Setenv("BERTH_HOST", "unix://"+filepath.Join(dir, "berth.sock"))
	t.Setenv("DOCKER_HOST", "")
	berthd := app.StartBerthdWith("--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "run"), "--bridge", bridge, "--bip", bip, "--ip-masq=false")
	var started *app.EngineProcess
	start := func(ctx context.Context, address string) (*app.EngineProcess, error) {
		p, err := berthd(ctx, address)
		started = p
		return p, err
	}
	core, err := app.Open(context.Background(), app.DefaultSettings(), nil, app.WithEngineStarter(start))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		core.Close()
		if started != nil {
			started.Signal(syscall.SIGTERM)
			for i := 0; i < 150 && started.Signal(syscall.Signal(0)) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		exec.Command("ip", "link", "del", bridge).Run()
		exec.Command("iptables", "-D", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT").Run()
		unmountUnder(dir)
	})
	if started == nil || !core.Info().Started || !strings.HasPrefix(core.Status().Line, "Started Berth's engine") {
		t.Fatalf("Open did not start berthd: %+v %+v", core.Info(), core.Status())
	}
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	return &Engine{Core: core, Registry: reg, BusyboxRef: reg.Host + "/library/busybox:1.36"}
}

// unmountUnder removes mounts a berthd killed mid-run left.
func unmountUnder(dir string) {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			syscall.Unmount(f[4], syscall.MNT_DETACH)
		}
	}
}

// Berthd is the berthd Main built; without root the test skips.
func Berthd(t testing.TB) string {
	t.Helper()
	if berthdDir == "" {
		t.Skip("the app's engine tests run berthd, which Main builds only as root (CI is root)")
	}
	return filepath.Join(berthdDir, "berthd")
}

// UseBuiltBerthd puts the berthd Main built first on the PATH, where
// app.StartBerthd finds it; without root the test skips (see Main).
func UseBuiltBerthd(t testing.TB) {
	t.Helper()
	if berthdDir == "" {
		t.Skip("the app's engine tests start berthd, which needs root (namespaces, mounts, a bridge)")
	}
	t.Setenv("PATH", berthdDir+":"+os.Getenv("PATH"))
}
