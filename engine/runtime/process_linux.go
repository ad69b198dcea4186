package runtime

import (
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/containerd/console"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

// LookupUser resolves "user[:group]" (names or numbers) against the
// image's own /etc/passwd and /etc/group, found inside rootfs so that a
// symlink cannot point at the host's; what they do not say comes from
// defaults. The builder's COPY --chown reads them the same way.
func LookupUser(rootfs, spec string, defaults *user.ExecUser) (*user.ExecUser, error) {
	passwd, _ := securejoin.SecureJoin(rootfs, "/etc/passwd")
	group, _ := securejoin.SecureJoin(rootfs, "/etc/group")
	return user.GetExecUserPath(spec, defaults, passwd, group)
}

// resolveUser is the process's user, root by default.
func resolveUser(rootfs, spec string) (processUser, error) {
	if spec == "" {
		spec = "0"
	}
	eu, err := LookupUser(rootfs, spec, &user.ExecUser{Uid: 0, Gid: 0, Home: "/"})
	if err != nil {
		return processUser{}, fmt.Errorf("unable to find user %s: %w: %w", spec, engine.ErrInvalidArgument, err)
	}
	return processUser{UID: eu.Uid, GID: eu.Gid, Groups: eu.Sgids, Home: eu.Home}, nil
}

// runIO is one run's standard streams.
type runIO struct {
	stdin   io.WriteCloser
	pty     console.Console
	copiers sync.WaitGroup
	// child ends, closed in the engine once the process has them
	childEnds []*os.File
	sockets   []*os.File
	tty       bool
	c         *ctr
}

func (r *runIO) closeAll() {
	for _, f := range append(r.childEnds, r.sockets...) {
		f.Close()
	}
	if r.stdin != nil {
		r.stdin.Close()
	}
}

func (c *ctr) wireIO(proc *libcontainer.Process, tty, openStdin bool) (*runIO, error) {
	r := &runIO{tty: tty, c: c}
	if tty {
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return nil, err
		}
		proc.ConsoleSocket = child
		r.childEnds = append(r.childEnds, child)
		r.sockets = append(r.sockets, parent)
		return r, nil
	}
	if openStdin {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		proc.Stdin, r.stdin = pr, pw
		r.childEnds = append(r.childEnds, pr)
	}
	for _, stream := range []string{"stdout", "stderr"} {
		pr, pw, err := os.Pipe()
		if err != nil {
			r.closeAll()
			return nil, err
		}
		if stream == "stdout" {
			proc.Stdout = pw
		} else {
			proc.Stderr = pw
		}
		r.childEnds = append(r.childEnds, pw)
		r.copiers.Add(1)
		go func() {
			defer r.copiers.Done()
			defer pr.Close()
			c.streams.copyFrom(stream, pr)
		}()
	}
	return r, nil
}

// afterStart closes the engine's copies of the child's ends (so EOF comes
// when the process ends) and, for a TTY, receives the terminal.
func (r *runIO) afterStart(proc *libcontainer.Process) error {
	for _, f := range r.childEnds {
		f.Close()
	}
	r.childEnds = nil
	if !r.tty {
		return nil
	}
	master, err := utils.RecvFile(r.sockets[0])
	for _, s := range r.sockets {
		s.Close()
	}
	r.sockets = nil
	if err != nil {
		return fmt.Errorf("receive the container's terminal: %w", err)
	}
	pty, err := console.ConsoleFromFile(master)
	if err != nil {
		return err
	}
	r.pty, r.stdin = pty, master
	r.copiers.Add(1)
	go func() {
		defer r.copiers.Done()
		r.c.streams.copyFrom("stdout", pty)
	}()
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// waitProcess waits for a process to end. The wait blocks a thread in the
// kernel for as long as the process runs, and Go keeps every thread it
// ever made: after a hundred containers at once the engine would keep a
// hundred idle threads. Waiting on a locked thread that is never unlocked
// makes Go end that thread with its goroutine.
func waitProcess(proc *libcontainer.Process) (*os.ProcessState, error) {
	type result struct {
		ps  *os.ProcessState
		err error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread ends with this goroutine
		ps, err := proc.Wait()
		done <- result{ps, err}
	}()
	r := <-done
	return r.ps, r.err
}
