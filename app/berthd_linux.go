package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// StartBerthd runs the berthd found next to the app's binary (or on the
// PATH) in the background, in its own session so it outlives the window,
// logging to berthd.log beside its socket.
// $BERTHD_FLAGS adds flags (space-separated), for development and tests
// that must keep the engine away from the machine's own data root.
func StartBerthd(ctx context.Context, address string) (*os.Process, error) {
	return StartBerthdWith(strings.Fields(os.Getenv("BERTHD_FLAGS"))...)(ctx, address)
}

// StartBerthdFor is StartBerthd with the settings' insecure registries.
func StartBerthdFor(s Settings) StartEngineFunc {
	args := strings.Fields(os.Getenv("BERTHD_FLAGS"))
	for _, r := range s.InsecureRegistries {
		args = append(args, "--insecure-registry", r)
	}
	return StartBerthdWith(args...)
}

// StartBerthdWith is StartBerthd passing berthd extra flags.
func StartBerthdWith(args ...string) StartEngineFunc {
	return func(ctx context.Context, address string) (*os.Process, error) { return startBerthd(address, args) }
}

func startBerthd(address string, args []string) (*os.Process, error) {
	bin, err := findBerthd()
	if err != nil {
		return nil, err
	}
	sock := strings.TrimPrefix(address, "unix://")
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(sock), "berthd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, append([]string{"-H", address}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go cmd.Wait() // reap it if it exits while the app runs
	return cmd.Process, nil
}

func findBerthd() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "berthd")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("berthd"); err == nil {
		return p, nil
	}
	return "", errors.New("Berth's engine (berthd) is neither next to the app nor on the PATH: build it with packaging/dev/setup.sh run, or point Settings at another engine")
}
