// Package apptest starts a real Berth engine for the app's and the views'
// tests, the way the app itself starts one: Connect finds no engine and
// runs berthd.
package apptest

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"
)

var berthdDir string

// Main builds berthd for the test binary, runs the tests, and removes it.
// Without root, tests that call Start skip with a reason.
func Main(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "berth-apptest-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		_, file, _, _ := goruntime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-tags", "seccomp", "-o", filepath.Join(dir, "berthd"), "./cmd/berthd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Stderr.Write(out)
			panic(err)
		}
		berthdDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

// WaitFor polls cond in the test (never in the app) until it holds.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
