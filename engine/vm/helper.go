package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
)

// Helper makes the engine in a VM look local: it serves a host socket
// that carries each connection to the engine inside, and follows the
// engine's events to open every published port on the host (the engine
// says which; nothing polls the guest).
type Helper struct {
	Driver Driver
	// Socket is the host-side socket the app and the docker CLI use: a
	// unix socket, or a named pipe on Windows (DefaultSocket).
	Socket string

	mu        sync.Mutex
	stopped   bool
	listener  net.Listener
	forwarded map[string]bool
	cancel    context.CancelFunc
	done      chan struct{}
}

// Start boots the VM (if needed), serves the socket and follows ports.
func (h *Helper) Start(ctx context.Context) error {
	if err := h.Driver.Start(ctx); err != nil {
		return err
	}
	l, err := listenEngine(h.Socket)
	if err != nil {
		return fmt.Errorf("engine socket: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	h.listener, h.cancel, h.stopped = l, cancel, false
	h.mu.Unlock()
	go h.serve(l)
	h.startFollowing(runCtx)
	return nil
}

func (h *Helper) startFollowing(ctx context.Context) {
	h.mu.Lock()
	h.forwarded, h.done = map[string]bool{}, make(chan struct{})
	h.mu.Unlock()
	go h.followPorts(ctx)
}

// Supervise restarts the VM when it stops without being asked to (a
// crash, the guest powering off), at most maxRestarts times in a row
// that end within a minute of starting; report hears every change of
// state. It returns when ctx ends, when Stop is called, or when it gives
// up (the last report is then the failure, with the console's tail).
func (h *Helper) Supervise(ctx context.Context, maxRestarts int, report func(Status)) {
	quick := 0
	for {
		started := time.Now()
		select {
		case <-ctx.Done():
			return
		case <-h.Driver.Done():
		}
		h.mu.Lock()
		stopped, runCtx := h.stopped, h.cancel
		h.mu.Unlock()
		if stopped || runCtx == nil {
			return
		}
		st := h.Driver.Status()
		report(st)
		if time.Since(started) < time.Minute {
			quick++
		} else {
			quick = 1
		}
		if quick > maxRestarts {
			return
		}
		report(Status{State: Starting, Reason: "restarting after: " + st.Reason})
		if err := h.restart(ctx); err != nil {
			report(h.Driver.Status())
			continue
		}
		report(h.Driver.Status())
	}
}

// restart boots the VM again behind the same socket; the ports are
// forwarded afresh as the engine restarts its containers.
func (h *Helper) restart(ctx context.Context) error {
	if err := h.Driver.Start(ctx); err != nil {
		return err
	}
	h.mu.Lock()
	cancel := h.cancel
	h.mu.Unlock()
	cancel() // the old event stream died with the VM
	runCtx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	h.cancel = cancel
	h.mu.Unlock()
	h.startFollowing(runCtx)
	return nil
}

func (h *Helper) serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			g, err := h.Driver.DialEngine(context.Background())
			if err != nil {
				return
			}
			defer g.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(g, c); closeWrite(g); done <- struct{}{} }()
			go func() { io.Copy(c, g); closeWrite(c); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// followPorts opens the host side of every port a container publishes,
// as its start event arrives (and for those already running).
func (h *Helper) followPorts(ctx context.Context) {
	defer close(h.done)
	c, err := client.New(SocketAddress(h.Socket))
	if err != nil {
		return
	}
	cc := c.Containers()
	forward := func(id string) {
		ct, err := cc.Inspect(ctx, id)
		if err != nil {
			return
		}
		for _, p := range ct.Ports {
			if p.Proto == "udp" || p.HostPort == 0 {
				continue // QEMU's user network forwards TCP here
			}
			key := fmt.Sprintf("%s:%d", p.HostIP, p.HostPort)
			h.mu.Lock()
			seen := h.forwarded[key]
			h.forwarded[key] = true
			h.mu.Unlock()
			if !seen {
				h.Driver.ForwardPort(ctx, p.HostIP, p.HostPort)
			}
		}
	}
	if list, err := cc.List(ctx, false); err == nil {
		for _, ct := range list {
			forward(ct.ID)
		}
	}
	for ev := range c.Subscribe(ctx, engine.EventFilter{Types: []string{"container"}, Actions: []string{"start"}}) {
		forward(ev.ID)
	}
}

// Ports are the host ports opened so far ("127.0.0.1:8080").
func (h *Helper) Ports() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k := range h.forwarded {
		out = append(out, strings.TrimPrefix(k, ":"))
	}
	return out
}

// Stop closes the socket and shuts the VM down.
func (h *Helper) Stop(ctx context.Context) error {
	h.mu.Lock()
	l, cancel := h.listener, h.cancel
	h.stopped = true
	h.mu.Unlock()
	if l != nil {
		l.Close()
		removeSocket(h.Socket)
	}
	if cancel != nil {
		cancel()
	}
	err := h.Driver.Stop(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
