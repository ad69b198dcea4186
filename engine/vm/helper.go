package vm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/iox"
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
	// PortError hears when a published port cannot be opened on the host
	// (another program holds it), once per port until it opens; the
	// container runs in the VM but cannot be reached there. May be nil;
	// set it before Start.
	PortError func(port string, err error)

	mu        sync.Mutex
	stopped   bool
	listener  net.Listener
	forwarded map[hostPort]bool
	failed    map[hostPort]bool // ports PortError heard of
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
	h.forwarded, h.failed, h.done = map[hostPort]bool{}, map[hostPort]bool{}, make(chan struct{})
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
			iox.Splice(c, g)
		}()
	}
}

// hostPort is a port the helper opened on the host.
type hostPort struct {
	proto string // "tcp" or "udp"
	ip    string
	port  int
}

// String is "127.0.0.1:8080", ":8080", or "127.0.0.1:53/udp".
func (p hostPort) String() string {
	s := strings.TrimPrefix(fmt.Sprintf("%s:%d", p.ip, p.port), ":")
	if p.proto == "udp" {
		s += "/udp"
	}
	return s
}

// followPorts keeps the host's open ports those that running containers
// publish: a container's start opens its ports on the host, and its end
// closes them, so the host port is free again for whatever else wants it.
// The engine's events drive it; nothing polls the guest.
func (h *Helper) followPorts(ctx context.Context) {
	defer close(h.done)
	c, err := client.New(SocketAddress(h.Socket))
	if err != nil {
		return
	}
	cc := c.Containers()
	// The subscription reaches the engine a moment after this call; the
	// last minute's events come too, so a container that starts in that
	// moment is not missed. (The VM's clock follows the host's.)
	events := c.Subscribe(ctx, engine.EventFilter{Types: []string{"container"}, Actions: []string{"start", "die"},
		Since: time.Now().Add(-time.Minute).UnixNano()})
	h.syncPorts(ctx, cc) // those already running
	for range events {
		// One reconciliation covers every event queued meanwhile.
	drain:
		for {
			select {
			case _, ok := <-events:
				if !ok {
					break drain
				}
			default:
				break drain
			}
		}
		h.syncPorts(ctx, cc)
	}
}

// syncPorts opens the published ports of the running containers and
// closes those no running container publishes any more.
func (h *Helper) syncPorts(ctx context.Context, cc engine.ContainerViews) {
	list, err := cc.List(ctx, false)
	if err != nil {
		return
	}
	want := map[hostPort]bool{}
	for _, ct := range list {
		for _, p := range ct.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := p.Proto
			if proto != "udp" {
				proto = "tcp"
			}
			want[hostPort{proto, p.HostIP, p.HostPort}] = true
		}
	}
	h.mu.Lock()
	var open, closed []hostPort
	for p := range want {
		if !h.forwarded[p] {
			open = append(open, p)
		}
	}
	for p := range h.forwarded {
		if !want[p] {
			closed = append(closed, p)
		}
	}
	for p := range h.failed {
		if !want[p] {
			delete(h.failed, p) // a later container publishing it is told afresh
		}
	}
	h.mu.Unlock()
	for _, p := range closed {
		if h.Driver.UnforwardPort(ctx, p.proto, p.ip, p.port) == nil {
			h.mu.Lock()
			delete(h.forwarded, p)
			h.mu.Unlock()
		}
	}
	for _, p := range open {
		// A host port another program holds stays unforwarded; the next
		// container event tries again.
		err := h.Driver.ForwardPort(ctx, p.proto, p.ip, p.port)
		h.mu.Lock()
		tell := err != nil && !h.failed[p] && ctx.Err() == nil
		if err == nil {
			h.forwarded[p] = true
			delete(h.failed, p)
		} else {
			h.failed[p] = true
		}
		h.mu.Unlock()
		if tell && h.PortError != nil {
			h.PortError(p.String(), err)
		}
	}
}

// Ports are the host ports open now ("127.0.0.1:8080", ":8080",
// "127.0.0.1:53/udp").
func (h *Helper) Ports() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for p := range h.forwarded {
		out = append(out, p.String())
	}
	sort.Strings(out)
	return out
}

// Detach stops serving the socket and following the engine, and leaves
// the VM running with its containers and their published ports (the app
// quits with keep_running); the next Start, here or in a later run of the
// app, adopts it.
func (h *Helper) Detach() {
	h.mu.Lock()
	l, cancel := h.listener, h.cancel
	h.stopped = true
	h.listener, h.cancel = nil, nil
	h.mu.Unlock()
	if l != nil {
		l.Close()
		removeSocket(h.Socket)
	}
	if cancel != nil {
		cancel()
	}
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
