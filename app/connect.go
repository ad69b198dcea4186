package app

import (
	"cmp"
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
)

// connection is an engine that answered: the client over it and what it
// said it is.
type connection struct {
	client *client.Client
	info   EngineInfo
	// status is the status bar's line: which engine, and whether the app
	// started it.
	status string
	// started is the berthd the app started, nil when one was running.
	started *EngineProcess
}

func (c *connection) roles() Roles {
	return Roles{Images: c.client, Registry: c.client, Archives: c.client, Events: c.client, Builder: c.client, Containers: c.client.Containers(), Disk: c.client, Volumes: c.client, Files: c.client, Terminals: clientTerminals{c.client}, Insight: c.client}
}

// dial makes a client for address and asks the engine what it is: the
// one "ping, then connect" step every way of reaching an engine takes.
func dial(ctx context.Context, address string, timeout time.Duration, tls *tlsFrom) (*connection, error) {
	c, err := client.New(address)
	if err != nil {
		return nil, err
	}
	if tls != nil {
		if c, err = c.WithTLS(tls.certDir); err != nil {
			return nil, err
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	v, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	return &connection{client: c, info: EngineInfo{Product: v.Product, Version: v.Version, Address: address}}, nil
}

// tlsFrom is a TLS connection's certificates folder.
type tlsFrom struct{ certDir string }

// StartEngineFunc starts Berth's engine listening at address; tests
// replace it. It returns the started process.
type StartEngineFunc func(ctx context.Context, address string) (*EngineProcess, error)

// target is the engine the settings and the environment choose.
type target struct {
	addr, source string
	tls          *tlsFrom
	// context is the chosen context's name, if one was.
	context string
	// own: Berth's own engine, started when it does not answer.
	own bool
}

// target picks the engine, first that applies: the settings' address, the
// settings' context, $DOCKER_HOST, $DOCKER_CONTEXT, else Berth's own.
// Settings come first because the app's switcher writes them; the docker
// CLI's currentContext is not followed (it is marked in the list), so a
// person who installed Berth gets Berth's engine until they choose another.
func (s Settings) target() (target, error) {
	switch {
	case s.Engine != "":
		t := target{addr: s.Engine, source: "settings"}
		if s.TLSVerify {
			t.tls = &tlsFrom{cmp.Or(s.CertPath, os.Getenv("DOCKER_CERT_PATH"))}
		}
		return t, nil
	case s.Context != "":
		return contextTarget(s.Context, "settings")
	case os.Getenv("DOCKER_HOST") != "":
		t := target{addr: os.Getenv("DOCKER_HOST"), source: "DOCKER_HOST"}
		if s.TLSVerify || os.Getenv("DOCKER_TLS_VERIFY") != "" {
			t.tls = &tlsFrom{cmp.Or(s.CertPath, os.Getenv("DOCKER_CERT_PATH"))}
		}
		return t, nil
	case os.Getenv("DOCKER_CONTEXT") != "":
		return contextTarget(os.Getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT")
	}
	return target{addr: client.BerthHost(), source: "berth", own: true, context: BerthContext}, nil
}

func contextTarget(name, source string) (target, error) {
	if name == BerthContext {
		return target{addr: client.BerthHost(), source: "berth", own: true, context: BerthContext}, nil
	}
	c, err := FindContext(name)
	if err != nil {
		return target{}, fmt.Errorf("the engine context chosen in %s: %w", source, err)
	}
	t := target{addr: c.Host, source: "context " + name, context: name}
	if c.TLSDir != "" {
		t.tls = &tlsFrom{c.TLSDir}
	}
	return t, nil
}

// connect finds the engine the settings choose (see Settings.target).
// When Berth's own engine does not answer (on Linux), start calls up a
// berthd and connect waits for it.
func connect(ctx context.Context, s Settings, start StartEngineFunc) (*connection, error) {
	t, err := s.target()
	if err != nil {
		return nil, err
	}
	addr, source, tls := t.addr, t.source, t.tls
	timeout := 2 * time.Second
	if strings.HasPrefix(addr, "ssh://") {
		timeout = 40 * time.Second // a login, and ssh's own 30 s connect timeout
	}
	conn, err := dial(ctx, addr, timeout, tls)
	if err == nil {
		conn.info.Context = t.context
		conn.status = fmt.Sprintf("Connected to %s %s at %s", productName(conn.info.Product), conn.info.Version, addr)
		if t.context != "" && !t.own {
			conn.status += " (context " + t.context + ")"
		}
		return conn, nil
	}
	if !t.own || start == nil || goruntime.GOOS != "linux" {
		return nil, fmt.Errorf("no engine answers at %s (from %s): %w", addr, source, err)
	}
	// A person in the berth group chose the system's engine (root's, its
	// socket theirs to use): take it rather than start one of their own.
	if addr != client.DefaultHost && os.Geteuid() != 0 {
		if sys, err := dial(ctx, client.DefaultHost, time.Second, nil); err == nil {
			sys.status = fmt.Sprintf("Connected to the system's Berth engine %s at %s", sys.info.Version, client.DefaultHost)
			sys.info.Context = BerthContext
			return sys, nil
		}
	}
	proc, serr := start(ctx, addr)
	if serr != nil {
		return nil, fmt.Errorf("no engine answers at %s, and starting Berth's engine failed: %w", addr, serr)
	}
	// The wait ends when the engine answers or its process ends (then with
	// its own reason); the deadline only guards against one that hangs.
	deadline := time.Now().Add(time.Minute)
	for {
		if conn, err = dial(ctx, addr, time.Second, nil); err == nil {
			break
		}
		select {
		case <-proc.Exited():
			return nil, fmt.Errorf("Berth's engine stopped as it started: %w", proc.Err())
		case <-ctx.Done():
			proc.Kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			proc.Kill()
			return nil, fmt.Errorf("started Berth's engine, but it did not answer at %s within a minute: %w", addr, err)
		}
	}
	conn.started = proc
	conn.info.Started = true
	conn.info.Context = BerthContext
	conn.status = fmt.Sprintf("Started Berth's engine %s at %s", conn.info.Version, addr)
	return conn, nil
}

func productName(product string) string {
	switch {
	case strings.Contains(product, "Berth"):
		return "Berth's engine"
	case product != "":
		return product
	}
	return "the engine"
}

// ProbeBerthd asks Berth's own engine for this user (its socket,
// client.BerthHost) what it is, without starting it.
func ProbeBerthd(ctx context.Context) (EngineInfo, error) {
	conn, err := dial(ctx, client.BerthHost(), 2*time.Second, nil)
	if err != nil {
		return EngineInfo{Address: client.BerthHost()}, err
	}
	return conn.info, nil
}

// clientTerminals are the client's exec terminals as the app's role.
type clientTerminals struct{ c *client.Client }

func (t clientTerminals) OpenTerminal(ctx context.Context, container string, spec engine.ExecSpec) (TerminalConn, error) {
	term, err := t.c.ExecTerminal(ctx, container, spec)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return term, nil
}
