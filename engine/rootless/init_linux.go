package rootless

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunInit is the namespace's first process when this berthd is one (the
// stage Reexec started); it does not return then. Call it before anything
// else in main.
func RunInit() {
	var err error
	switch os.Getenv(stageEnv) {
	case "init":
		err = becomeRoot()
	case "init-root":
		err = runInit()
	default:
		return
	}
	fmt.Fprintln(os.Stderr, "berthd:", err)
	os.Exit(1)
}

// becomeRoot waits for the parent to map the IDs, takes user 0, and
// executes itself again: a process gains root's capabilities in its
// namespace by executing as root, not by taking the ID.
func becomeRoot() error {
	sync := os.NewFile(3, "sync")
	if _, err := sync.Read(make([]byte, 1)); err != nil {
		return fmt.Errorf("the engine's namespace was not set up: %w", err)
	}
	sync.Close()
	if err := syscall.Setresgid(0, 0, 0); err != nil {
		return fmt.Errorf("become root in the namespace: %w", err)
	}
	if err := syscall.Setresuid(0, 0, 0); err != nil {
		return fmt.Errorf("become root in the namespace: %w", err)
	}
	os.Setenv(stageEnv, "init-root")
	return syscall.Exec("/proc/self/exe", os.Args, os.Environ())
}

func runInit() error {
	// Mounts made here stay here, and the namespace sees its own
	// processes in /proc (libcontainer reads them by PID).
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the engine's mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc for the engine's namespace: %w", err)
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	os.Setenv(stageEnv, "engine")
	env := os.Environ()
	engine, err := os.StartProcess("/proc/self/exe", os.Args, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return fmt.Errorf("start the engine: %w", err)
	}
	go func() {
		for s := range signals {
			engine.Signal(s)
		}
	}()
	// PID 1 reaps every orphan; the engine's end is the namespace's.
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for the engine: %w", err)
		}
		if pid != engine.Pid {
			continue
		}
		if ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ws.ExitStatus())
	}
}
