package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
)

// Helper makes the engine in a VM look local: it serves a host socket
// that carries each connection to the engine inside, and follows the
// engine's events to open every published port on the host (the engine
// says which; nothing polls the guest).
type Helper struct {
	Driver Driver
	// Socket is the host-side socket the app and the docker CLI use.
	Socket string

	mu        sync.Mutex
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
	if err := os.MkdirAll(filepath.Dir(h.Socket), 0o700); err != nil {
		return err
	}
	os.Remove(h.Socket)
	l, err := net.Listen("unix", h.Socket)
	if err != nil {
		return fmt.Errorf("engine socket: %w", err)
	}
	// Only the user who runs the helper may drive the engine.
	if err := os.Chmod(h.Socket, 0o600); err != nil {
		l.Close()
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	h.listener, h.cancel, h.forwarded, h.done = l, cancel, map[string]bool{}, make(chan struct{})
	h.mu.Unlock()
	go h.serve(runCtx, l)
	go h.followPorts(runCtx)
	return nil
}

func (h *Helper) serve(ctx context.Context, l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			g, err := h.Driver.DialEngine(ctx)
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
	c, err := client.New("unix://" + h.Socket)
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
	h.mu.Unlock()
	if l != nil {
		l.Close()
		os.Remove(h.Socket)
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
