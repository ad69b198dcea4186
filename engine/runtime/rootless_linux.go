package runtime

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	goruntime "runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// WithRootless runs the runtime in a user namespace an ordinary user owns
// (engine/rootless). The host's network is not the engine's to change, so
// the bridge lives in a network namespace of the engine's own whose way
// out is pasta (Debian's passt): user-mode networking that turns the
// containers' connections into the user's own sockets. Published ports
// still listen on the host (berthd has not left its network namespace);
// each connection is made to the container from inside the engine's
// namespace. cgroups are the system's, not the user's: containers'
// cgroups go under cgroup, the one the system delegated to the engine
// (rootless.DelegatedCgroup), and their limits are those its controllers
// allow; with cgroup "" they have no cgroups and no limits.
func WithRootless(cgroup string, controllers []string) Option {
	return func(o *options) { o.rootless, o.cgroup, o.controllers = true, cgroup, controllers }
}

// DNSForward is the address containers of a rootless engine send DNS
// queries to when the host's resolvers are on its loopback (which means
// nothing in a container's namespace): pasta relays them to the host's.
const DNSForward = "169.254.1.1"

// startRootlessNetwork makes the engine's network namespace at path and
// starts pasta on it, and returns once the namespace has its way out.
func startRootlessNetwork(path string) (*exec.Cmd, error) {
	if err := newNetns(path); err != nil {
		return nil, fmt.Errorf("the engine's network namespace: %w", err)
	}
	pasta := exec.Command("pasta", "--config-net", "--netns", path,
		"-t", "none", "-u", "none", "-T", "none", "-U", "none", // berthd publishes ports itself
		"--dns-forward", DNSForward, "--foreground", "--quiet")
	out, err := os.CreateTemp("", "pasta-")
	if err == nil {
		os.Remove(out.Name())
		pasta.Stdout, pasta.Stderr = out, out
		defer out.Close()
	}
	if err := pasta.Start(); err != nil {
		removeNetns(path)
		return nil, fmt.Errorf("start pasta, the containers' network (install it with: sudo apt install passt): %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- pasta.Wait() }()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		pasta.Process.Kill()
		return nil, err
	}
	defer ns.Close()
	h, err := newNetlinkHandle(ns)
	if err != nil {
		pasta.Process.Kill()
		return nil, err
	}
	defer h.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if routes, err := h.RouteList(nil, netlink.FAMILY_V4); err == nil && hasDefault(routes) {
			return pasta, nil
		}
		select {
		case err := <-exited:
			removeNetns(path)
			msg := ""
			if out != nil {
				b := make([]byte, 4096)
				n, _ := out.ReadAt(b, 0)
				msg = string(b[:n])
			}
			return nil, fmt.Errorf("pasta, the containers' network, stopped (%v): %s", err, msg)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			pasta.Process.Kill()
			removeNetns(path)
			return nil, fmt.Errorf("pasta did not give the engine's network a way out in 10 s")
		}
	}
}

func hasDefault(routes []netlink.Route) bool {
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			return true
		}
	}
	return false
}

// inNetns runs fn on a thread in the network namespace at path. Sockets fn
// makes stay in that namespace; the thread comes back to its own, or ends
// with fn's goroutine if it cannot.
func inNetns(path string, fn func() error) error {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return err
	}
	defer target.Close()
	return inNetnsHandle(target, fn)
}

// inNetnsHandle is inNetns for an open namespace.
func inNetnsHandle(target netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			errc <- err
			return
		}
		err = fn()
		// A rootless engine may leave the host's namespace but not come
		// back: the thread then ends with this goroutine.
		if netns.Set(orig) == nil {
			goruntime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// dialer connects to containers from where their bridge is: the host, or
// a rootless engine's own namespace.
func (n *network) dial(network, addr string) (net.Conn, error) {
	if n.hostNS == "" {
		return net.DialTimeout(network, addr, 10*time.Second)
	}
	var conn net.Conn
	err := inNetns(n.hostNS, func() (err error) {
		conn, err = net.DialTimeout(network, addr, 10*time.Second)
		return err
	})
	return conn, err
}

// command runs an administration command (iptables) where the bridge is.
func (n *network) command(name string, args ...string) *exec.Cmd {
	if n.hostNS == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("nsenter", append([]string{"--net=" + n.hostNS, "--", name}, args...)...)
}
