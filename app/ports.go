package app

import (
	"fmt"
	"net"
	"net/url"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/iox"
)

// A container's published ports are on the engine's host. For an engine
// on this computer, or in Berth's VM (whose ports are forwarded here),
// that is localhost. For a remote engine it is that host; behind SSH,
// Berth forwards a port of this computer to it through SSH, as a remote
// host's ports are often firewalled.

// remoteHost is the host an engine at address publishes ports on, empty
// for this computer.
func remoteHost(address string) string {
	if t, err := client.ParseSSH(address); err == nil {
		return t.Host
	}
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "tcp" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return ""
	}
	return host
}

// PortsHost is the host the engine publishes containers' ports on, empty
// for this computer: a person reads "8080→80 on big.example".
func (c *Core) PortsHost() string { return remoteHost(c.info.Address) }

// Reach is where a container's published port is reached from here.
type Reach struct {
	URL string
	// Note says where the port really is, for a remote engine.
	Note string
}

// forwards are the local ports forwarded to a remote engine's host.
type forwards struct {
	mu    sync.Mutex
	ssh   *client.SSHTarget
	local map[string]string // host address → local address
}

// Reach is where ct's first published TCP port is reached from this
// computer: for an engine behind SSH, a local port Berth forwards to it
// through SSH for as long as the Core lives.
func (c *Core) Reach(ct engine.Container) (Reach, error) {
	local := URL(ct)
	if local == "" {
		return Reach{}, fmt.Errorf("%s publishes no TCP port (run it with -p HOST:CONTAINER)", ct.Name)
	}
	host := c.PortsHost()
	if host == "" {
		return Reach{URL: local}, nil
	}
	u, _ := url.Parse(local)
	port := u.Port()
	if c.forwards.ssh == nil {
		u.Host = net.JoinHostPort(host, port)
		return Reach{URL: u.String(), Note: fmt.Sprintf("Port %s is on the engine's host, %s, not this computer.", port, host)}, nil
	}
	// As the host sees it: the address the port was published on, or
	// its loopback for one published on every address.
	onHost := u.Hostname()
	if onHost == "localhost" {
		onHost = "127.0.0.1"
	}
	addr, err := c.forward(net.JoinHostPort(onHost, port))
	if err != nil {
		return Reach{}, err
	}
	u.Host = addr
	return Reach{URL: u.String(), Note: fmt.Sprintf("Port %s is on %s, not this computer: Berth forwards %s to it through SSH while the app runs.", port, host, addr)}, nil
}

// forward listens on a port of this computer's loopback and carries each
// connection to hostAddr on the SSH host (ssh -W), once per address.
func (c *Core) forward(hostAddr string) (string, error) {
	f := &c.forwards
	f.mu.Lock()
	defer f.mu.Unlock()
	if addr, ok := f.local[hostAddr]; ok {
		return addr, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("forward a port to %s: %w", hostAddr, err)
	}
	if f.local == nil {
		f.local = map[string]string{}
	}
	f.local[hostAddr] = ln.Addr().String()
	target := *f.ssh
	go func() { <-c.ctx.Done(); ln.Close() }()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				remote, err := target.DialHost(c.ctx, hostAddr)
				if err != nil {
					return
				}
				defer remote.Close()
				iox.Splice(conn, remote)
			}()
		}
	}()
	return ln.Addr().String(), nil
}
