package runtime

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

// execStartFailureCode is the exit code dockerd reports for an exec that
// could not start: 127 when its command is not there, else 126.
func execStartFailureCode(err error) int {
	if msg := err.Error(); strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") {
		return 127
	}
	return 126
}

// Exec runs a process in a running container and returns its exit code.
func (rt *Runtime) Exec(ctx context.Context, name string, spec engine.ExecSpec, streams engine.AttachOptions) (int, error) {
	c, err := rt.find(name)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return 0, conflict("Container %s is not running", c.rec.ID)
	}
	lc, rec := c.lc, c.rec
	env := mergeEnv(c.rec.Env, spec.Env)
	cwd := cmp.Or(spec.WorkingDir, c.rec.Cwd)
	userSpec := cmp.Or(spec.User, c.rec.UserSpec)
	c.mu.Unlock()
	u, err := resolveUser(filepath.Join(c.dir, "rootfs"), userSpec)
	if err != nil {
		return 126, err // as dockerd: the exec could not start
	}
	proc := &libcontainer.Process{Args: spec.Cmd, Env: env, Cwd: cwd, UID: u.UID, GID: u.GID, AdditionalGroups: u.Groups,
		ConsoleHeight: uint16(spec.ConsoleHeight), ConsoleWidth: uint16(spec.ConsoleWidth), Rlimits: c.rlimits}
	var copiers sync.WaitGroup
	var closers []io.Closer
	var pty console.Console
	var parentSock *os.File
	if spec.Tty {
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return 0, err
		}
		proc.ConsoleSocket, parentSock = child, parent
		closers = append(closers, child)
	} else {
		if streams.Stdin != nil {
			// A pipe of our own, not exec's copying: Wait would wait for
			// the client to close its stdin, and a client that keeps it
			// open (docker-py's socket, compose exec -T) never saw the
			// stream end after the process did.
			pr, pw, err := os.Pipe()
			if err != nil {
				return 0, err
			}
			proc.Stdin = pr
			closers = append(closers, pr) // the process has its own copy once it runs
			go func() { io.Copy(pw, streams.Stdin); pw.Close() }()
			defer pw.Close() // the process is gone: nothing more reaches it
		}
		proc.Stdout = orDiscard(streams.Stdout)
		proc.Stderr = orDiscard(streams.Stderr)
	}
	release, err := rt.launch(ctx)
	if err != nil {
		return 0, err
	}
	err = lc.Run(proc)
	release()
	if err != nil {
		for _, cl := range closers {
			cl.Close()
		}
		return execStartFailureCode(err), startError(err)
	}
	for _, cl := range closers {
		cl.Close()
	}
	if parentSock != nil {
		master, err := utils.RecvFile(parentSock)
		parentSock.Close()
		if err != nil {
			proc.Signal(unix.SIGKILL)
			proc.Wait()
			return 0, err
		}
		pty, _ = console.ConsoleFromFile(master)
		copiers.Add(1)
		go func() { defer copiers.Done(); io.Copy(orDiscard(streams.Stdout), pty) }()
		if streams.Stdin != nil {
			go func() {
				io.Copy(pty, streams.Stdin)
				// The client hung up its terminal: so does the process's,
				// as a closed terminal window does to a shell.
				proc.Signal(unix.SIGHUP)
			}()
		}
		if spec.Resizes != nil {
			done := make(chan struct{})
			defer close(done)
			go func() {
				for {
					select {
					case s := <-spec.Resizes:
						pty.Resize(console.WinSize{Height: uint16(s.Height), Width: uint16(s.Width)})
					case <-done:
						return
					}
				}
			}()
		}
	}
	rt.event("exec_start", rec, map[string]string{"command": strings.Join(spec.Cmd, " ")})
	ps, _ := waitProcess(proc)
	if pty != nil {
		done := make(chan struct{})
		go func() { copiers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		pty.Close()
	}
	code := exitCode(ps)
	rt.event("exec_die", rec, map[string]string{"exitCode": fmt.Sprint(code)})
	return code, nil
}
