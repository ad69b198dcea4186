package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
)

// berth engine start|status|stop as an ordinary user in a terminal: the
// rootless engine the app would start, served until stopped or Ctrl-C.
func TestEngineCommandForAnOrdinaryUser(t *testing.T) {
	p := enginetest.OrdinaryUser(t)
	bin := p.Mkdir(t, filepath.Join(p.Runtime, "bin"))
	for _, b := range []string{"berth", "berthd"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b), "../"+b).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b, err, out)
		}
	}
	dockerConfig := p.Mkdir(t, filepath.Join(p.Runtime, "docker-config"))
	as := func(name string, args ...string) (string, int) {
		t.Helper()
		cmd := p.Command(context.Background(), name, args...)
		cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+dockerConfig)
		out, err := cmd.CombinedOutput()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("berth %v: %v", args, err)
		}
		return string(out), code
	}
	berth := func(args ...string) (string, int) { t.Helper(); return as(filepath.Join(bin, "berth"), args...) }
	sock := "unix://" + filepath.Join(p.Runtime, "berth", "berth.sock")
	pidFile := filepath.Join(p.Runtime, "berth", client.PIDFile)

	if out, code := berth("engine", "status"); code != 3 || !strings.HasPrefix(out, "stopped") {
		t.Fatalf("status before start: %d %q", code, out)
	}
	if out, code := berth("engine", "stop"); code != 0 || !strings.Contains(out, "not running") {
		t.Fatalf("stop before start: %d %q", code, out)
	}

	// start serves in the foreground and prints where, once it answers.
	start := func() (*exec.Cmd, func() error) {
		cmd := p.Command(context.Background(), filepath.Join(bin, "berth"), "engine", "start")
		stdout, _ := cmd.StdoutPipe()
		var log strings.Builder
		cmd.Stderr = &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var waitErr error
		exited := make(chan struct{})
		ready := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "export DOCKER_HOST=") {
					ready <- sc.Text()
				}
			}
			waitErr = cmd.Wait()
			close(exited)
		}()
		t.Cleanup(func() { cmd.Process.Signal(syscall.SIGINT); <-exited })
		select {
		case line := <-ready:
			if line != "export DOCKER_HOST="+sock {
				t.Fatalf("start printed %q, want the person's socket %s", line, sock)
			}
		case <-exited:
			t.Fatalf("berth engine start ended (%v):\n%s", waitErr, log.String())
		case <-time.After(2 * time.Minute):
			t.Fatalf("berth engine start never said the engine is ready:\n%s", log.String())
		}
		return cmd, func() error { <-exited; return waitErr }
	}
	_, wait := start()
	if out, code := berth("engine", "status"); code != 0 || !strings.Contains(out, "running: Berth") || !strings.Contains(out, "export DOCKER_HOST="+sock) {
		t.Fatalf("status while running: %d %q", code, out)
	}
	if out, code := berth("engine", "start"); code != 0 || !strings.Contains(out, "already running") {
		t.Fatalf("a second start: %d %q", code, out)
	}
	// --docker-context puts the engine into the docker CLI's contexts,
	// where the real docker CLI and berth context ls find it.
	if out, code := berth("engine", "start", "--docker-context"); code != 0 || !strings.Contains(out, "docker --context berth ps") {
		t.Fatalf("start --docker-context while running: %d %q", code, out)
	}
	if _, err := exec.LookPath("docker"); err == nil {
		if out, code := as("docker", "--context", "berth", "version", "--format", "{{.Server.Version}}"); code != 0 || strings.TrimSpace(out) == "" {
			t.Errorf("docker --context berth version: %d %q", code, out)
		}
	} else {
		t.Log("the docker CLI is not installed: the context berth wrote is checked by berth alone")
	}
	if out, code := berth("context", "ls"); code != 0 || !strings.Contains(out, "berth *") {
		t.Errorf("berth context ls: %d %q", code, out)
	}
	if out, code := berth("engine", "stop"); code != 0 || !strings.Contains(out, "Berth's engine stopped") {
		t.Fatalf("stop: %d %q", code, out)
	}
	if err := wait(); err != nil {
		t.Errorf("berth engine start after stop: %v, want a clean end", err)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("the engine's PID file outlived it: %v", err)
	}

	// Ctrl-C stops it too.
	cmd, wait := start()
	cmd.Process.Signal(syscall.SIGINT)
	if err := wait(); err != nil {
		t.Errorf("berth engine start after Ctrl-C: %v, want a clean end", err)
	}
	if out, code := berth("engine", "status"); code != 3 {
		t.Errorf("status after Ctrl-C: %d %q", code, out)
	}
}
