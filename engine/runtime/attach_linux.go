package runtime

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/containerd/console"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

// Attach connects a client to the container's streams.
func (rt *Runtime) Attach(ctx context.Context, name string, opts engine.AttachOptions) (func() error, error) {
	c, err := rt.find(name)
	if err != nil {
		return nil, err
	}
	a := &attachment{stdout: opts.Stdout, stderr: opts.Stderr, done: make(chan struct{})}
	if opts.Logs {
		c.mu.Lock()
		path := c.rec.LogPath
		c.mu.Unlock()
		readLog(path, engine.LogOptions{Stdout: true, Stderr: true, Tail: -1}, nil, func(e engine.LogEntry) error {
			w := opts.Stdout
			if e.Stream == "stderr" {
				w = opts.Stderr
			}
			if w != nil {
				w.Write(e.Data)
			}
			return nil
		})
	}
	c.mu.Lock()
	c.streams.add(a)
	c.mu.Unlock()
	if opts.Stdin != nil {
		go c.feedStdin(opts.Stdin, a)
	}
	return func() error {
		defer c.streams.remove(a)
		select {
		case <-a.done:
		case <-ctx.Done():
		}
		return nil
	}, nil
}

// feedStdin copies a client's input to the process. The container may not
// have started yet (docker run attaches first), so it waits for the run.
func (c *ctr) feedStdin(in io.Reader, a *attachment) {
	var w io.WriteCloser
	for w == nil {
		c.mu.Lock()
		w = c.stdin
		c.mu.Unlock()
		if w != nil {
			break
		}
		select {
		case <-a.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := io.Copy(w, in); errors.Is(err, engine.ErrDetached) {
		return // the client left; the process keeps its input open
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// docker run -i (StdinOnce): the client's EOF is the process's EOF.
	if c.stdin == w && c.pty == nil {
		w.Close()
		c.stdin = nil
	}
}

// Resize sets the terminal size of a TTY container.
func (rt *Runtime) Resize(ctx context.Context, name string, height, width uint) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pty == nil {
		return nil
	}
	return c.pty.Resize(console.WinSize{Height: uint16(height), Width: uint16(width)})
}
