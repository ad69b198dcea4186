package app

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
)

// Connection is the engine the app drives.
type Connection struct {
	Client  *client.Client
	Address string
	Server  client.ServerVersion
	// Status is the status bar's line: which engine, and whether the app
	// started it.
	Status string
	// Started is the berthd the app started, nil when one was running.
	Started *os.Process
}

// Engine roles, for the views' state holders.
func (c *Connection) Images() engine.Images     { return c.Client }
func (c *Connection) Registry() engine.Registry { return c.Client }
func (c *Connection) Events() engine.Events     { return c.Client }
func (c *Connection) Builder() engine.Builder   { return c.Client }
func (c *Connection) Containers() client.ContainerClient {
	return c.Client.Containers()
}

// StartEngineFunc starts Berth's engine listening at address; tests
// replace it. It returns the started process.
type StartEngineFunc func(ctx context.Context, address string) (*os.Process, error)

// Connect finds the engine: settings.Engine, else $DOCKER_HOST, else
// Berth's own socket. When Berth's own engine does not answer (on Linux),
// start calls up a berthd and Connect waits for it.
func Connect(ctx context.Context, s Settings, start StartEngineFunc) (*Connection, error) {
	addr, source := s.Engine, "settings"
	if addr == "" {
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			addr, source = h, "DOCKER_HOST"
		} else {
			addr, source = client.BerthHost(), "berth"
		}
	}
	c, err := client.New(addr)
	if err != nil {
		return nil, err
	}
	if s.TLSVerify || source == "DOCKER_HOST" && os.Getenv("DOCKER_TLS_VERIFY") != "" {
		dir := s.CertPath
		if dir == "" {
			dir = os.Getenv("DOCKER_CERT_PATH")
		}
		if c, err = c.WithTLS(dir); err != nil {
			return nil, err
		}
	}
	conn := &Connection{Client: c, Address: addr}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	v, err := c.Version(pingCtx)
	cancel()
	if err == nil {
		conn.Server = v
		conn.Status = fmt.Sprintf("Connected to %s %s at %s", productName(v), v.Version, addr)
		return conn, nil
	}
	if source != "berth" || start == nil || goruntime.GOOS != "linux" {
		return nil, fmt.Errorf("no engine answers at %s (from %s): %w", addr, source, err)
	}
	proc, serr := start(ctx, addr)
	if serr != nil {
		return nil, fmt.Errorf("no engine answers at %s, and starting Berth's engine failed: %w", addr, serr)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		v, err = c.Version(pingCtx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			proc.Kill()
			return nil, fmt.Errorf("started Berth's engine, but it did not answer at %s: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn.Server, conn.Started = v, proc
	conn.Status = fmt.Sprintf("Started Berth's engine %s at %s", v.Version, addr)
	return conn, nil
}

func productName(v client.ServerVersion) string {
	switch {
	case strings.Contains(v.Product, "Berth"):
		return "Berth's engine"
	case v.Product != "":
		return v.Product
	}
	return "the engine"
}
