package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine/client"
)

// StartBerthd runs the berthd found next to the app's binary (or on the
// PATH) in the background, in its own session so it outlives the window,
// logging to berthd.log beside its socket. As root it is the system's
// engine; as an ordinary user berthd makes itself a rootless engine.
// $BERTHD_FLAGS adds flags (space-separated), for development and tests
// that must keep the engine away from the machine's own data root.
func StartBerthd(ctx context.Context, address string) (*EngineProcess, error) {
	return StartBerthdWith(strings.Fields(os.Getenv("BERTHD_FLAGS"))...)(ctx, address)
}

// StartBerthdFor is StartBerthd with the settings' flags.
func StartBerthdFor(s Settings) StartEngineFunc { return StartBerthdWith(berthdArgs(s)...) }

// StartBerthdWith is StartBerthd passing berthd extra flags.
func StartBerthdWith(args ...string) StartEngineFunc {
	return func(ctx context.Context, address string) (*EngineProcess, error) {
		cmd, err := BerthdCommand(address, args...)
		if err != nil {
			return nil, err
		}
		logPath := filepath.Join(filepath.Dir(socketPath(address)), "berthd.log")
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("the engine's log: %w", err)
		}
		defer logf.Close()
		offset, _ := logf.Seek(0, 2)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
		}
		return watchEngine(cmd, logPath, offset), nil
	}
}

// berthdArgs are the flags the settings give Berth's engine.
func berthdArgs(s Settings) []string {
	args := strings.Fields(os.Getenv("BERTHD_FLAGS"))
	for _, r := range s.InsecureRegistries {
		args = append(args, "--insecure-registry", r)
	}
	return args
}

// BerthdCommand is the command that runs Berth's engine listening at
// address, not started: its socket's folder made (private to this user).
func BerthdCommand(address string, args ...string) (*exec.Cmd, error) {
	bin, err := findBerthd()
	if err != nil {
		return nil, err
	}
	dirMode := os.FileMode(0o700) // an ordinary user's engine is theirs alone
	if os.Geteuid() == 0 {
		dirMode = 0o755 // the system's: its socket's group may reach it
	}
	if err := os.MkdirAll(filepath.Dir(socketPath(address)), dirMode); err != nil {
		return nil, fmt.Errorf("the engine's folder: %w", err)
	}
	return exec.Command(bin, append([]string{"-H", address}, args...)...), nil
}

// BerthdCommandFor is BerthdCommand with the settings' flags, at Berth's
// own address for this user: what `berth engine start` runs.
func BerthdCommandFor(s Settings) (*exec.Cmd, error) {
	return BerthdCommand(client.BerthHost(), berthdArgs(s)...)
}

func socketPath(address string) string { return strings.TrimPrefix(address, "unix://") }

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
	return "", errors.New("Berth's engine (berthd) is neither next to the app nor on the PATH: reinstall Berth, or point Settings at another engine")
}

// StopBerthd stops the Berth engine serving this user's socket: it
// signals the PID the engine recorded beside it and waits (up to ctx) for
// it to end. It returns false when no engine runs there.
func StopBerthd(ctx context.Context) (bool, error) {
	return StopBerthdAt(ctx, filepath.Dir(socketPath(client.BerthHost())))
}

// StopBerthdAt is StopBerthd for the engine whose run folder is runDir.
func StopBerthdAt(ctx context.Context, runDir string) (bool, error) {
	pidFile := filepath.Join(runDir, client.PIDFile)
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("the engine's PID: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return false, fmt.Errorf("the engine's PID file %s holds %q, not a PID", pidFile, strings.TrimSpace(string(data)))
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) { // it was killed and could not tidy up
			os.Remove(pidFile)
			return false, nil
		}
		return false, fmt.Errorf("stop the engine (PID %d): %w", pid, err)
	}
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			return true, fmt.Errorf("the engine (PID %d) is still stopping: %w", pid, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return true, nil
}

// RunBerthd runs Berth's engine for this user in the foreground, its log
// to log, and calls ready once it answers. When ctx ends the engine is
// asked to stop and RunBerthd waits for it; it returns why the engine
// ended early, or nil after a clean stop.
func RunBerthd(ctx context.Context, s Settings, log io.Writer, ready func(address string)) error {
	cmd, err := BerthdCommandFor(s)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: Ctrl-C reaches RunBerthd's caller, which
	// stops the engine once, rather than both at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	address := client.BerthHost()
	answered, stopping := false, false
	done := ctx.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			if err == nil { // a clean stop: asked here, or by berth engine stop
				return nil
			}
			if stopping {
				return fmt.Errorf("Berth's engine did not stop cleanly: %s", exitWords(err))
			}
			return fmt.Errorf("Berth's engine stopped: %s", exitWords(err))
		case <-done:
			cmd.Process.Signal(syscall.SIGTERM)
			stopping, done = true, nil // then wait for it to finish
		case <-tick.C:
			if answered || stopping {
				continue
			}
			if _, err := dial(ctx, address, time.Second, nil); err == nil {
				answered = true
				ready(address)
			}
		}
	}
}
