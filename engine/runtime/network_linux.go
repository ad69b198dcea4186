package runtime

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// network is Berth's bridge: every container gets a veth pair into its
// own network namespace and an address on the bridge's subnet, so
// containers reach each other by IP and the host by the gateway address.
// Outbound traffic is masqueraded (iptables) when the host allows it.
type network struct {
	bridge  string
	gateway net.IP
	subnet  *net.IPNet
	nsDir   string
	nat     bool

	mu   sync.Mutex
	used map[string]bool // leased addresses

	// pool holds prepared namespaces — veth in, address and route set —
	// so a start takes one at once instead of spending tens of
	// milliseconds in the kernel; refill tops it up in the background.
	pool   chan *netns0
	refill chan struct{}

	// nl talks to the host's namespace. Its replies have a deadline, as
	// every netlink handle here: a lost reply (the kernel drops them when a
	// socket's buffer overflows) otherwise blocks a start forever.
	nl *netlink.Handle

	// hostNS, for a rootless engine, is the network namespace its bridge
	// lives in (the engine's own), with pasta as its way out; empty: the
	// host's.
	hostNS string
	pasta  *exec.Cmd
}

// netlinkTimeout bounds one netlink request; the kernel answers in
// microseconds, so reaching it means the reply is gone.
const netlinkTimeout = 5 * time.Second

// newNetlinkHandle opens a route netlink handle in ns (the current one
// when ns is -1) whose replies have a deadline. Only routes: a minimal
// kernel (the VM's) has no xfrm or netfilter netlink.
func newNetlinkHandle(ns netns.NsHandle) (*netlink.Handle, error) {
	var h *netlink.Handle
	var err error
	if ns < 0 {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	} else {
		// Not netlink.NewHandleAt: it unlocks its thread even when it
		// could not bring it back to the host's namespace (a rootless
		// engine cannot), and the next goroutine on that thread would
		// open its sockets in the wrong namespace.
		err = inNetnsHandle(ns, func() (err error) {
			h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	if err := h.SetSocketTimeout(netlinkTimeout); err != nil {
		h.Close()
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return h, nil
}

// netns0 is a network namespace ready for a container.
type netns0 struct {
	id  string // names the namespace file and the veth pair
	ip  net.IP
	mac string
}

const poolSize = 2

// startPool prepares namespaces in the background until stop is closed;
// the returned channel closes when it has stopped and released what it held.
func (n *network) startPool(stop <-chan struct{}) <-chan struct{} {
	n.pool = make(chan *netns0, poolSize)
	n.refill = make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { // release the prepared namespaces
			for {
				select {
				case ns := <-n.pool:
					n.teardown(ns.id)
					n.release(ns.ip.String())
				default:
					return
				}
			}
		}()
		for {
			for len(n.pool) < poolSize {
				ns, err := n.prepare("")
				if err != nil {
					break // retried on the next take
				}
				select {
				case n.pool <- ns:
				case <-stop:
					n.teardown(ns.id)
					n.release(ns.ip.String())
					return
				}
			}
			select {
			case <-n.refill:
			case <-stop:
				return
			}
		}
	}()
	return done
}

// take gives a prepared namespace, from the pool when one is ready.
func (n *network) take() (*netns0, error) {
	if n.pool != nil {
		select {
		case ns := <-n.pool:
			n.kick()
			return ns, nil
		default:
			n.kick()
		}
	}
	return n.prepare("")
}

func (n *network) kick() {
	select {
	case n.refill <- struct{}{}:
	default:
	}
}

// prepare makes one namespace with an address (want, when free).
func (n *network) prepare(want string) (*netns0, error) {
	ip, err := n.lease(want)
	if err != nil {
		return nil, err
	}
	id := newID()
	mac, err := n.setup(id, ip)
	if err != nil {
		n.release(ip.String())
		return nil, err
	}
	return &netns0{id: id, ip: ip, mac: mac}, nil
}

// discard tears a namespace down and frees its address, in the background:
// the kernel's namespace cleanup is slow and nothing waits for it.
func (n *network) discard(ns *netns0) {
	go func() {
		n.teardown(ns.id)
		n.release(ns.ip.String())
	}()
}

// cleanStale removes namespaces a previous engine left (its pool, and
// containers it lost): none of them is in use after a restart.
func (n *network) cleanStale() {
	entries, _ := os.ReadDir(n.nsDir)
	for _, e := range entries {
		n.teardown(e.Name())
	}
}

// Defaults for the engine's bridge; dockerd's --bridge and --bip change them.
const (
	DefaultBridge = "berth0"
	DefaultBIP    = "10.88.0.1/16"
)

// newNetwork sets up the bridge in the host's network namespace, or, with
// hostNS set (a rootless engine), in a namespace of the engine's own made
// there, with pasta as its way out.
func newNetwork(nsDir, bridge, bip string, nat bool, hostNS string) (n *network, err error) {
	gw, subnet, err := net.ParseCIDR(bip)
	if err != nil {
		return nil, fmt.Errorf("bridge address %q: %w", bip, err)
	}
	if len(bridge) > 15 {
		return nil, fmt.Errorf("bridge name %q is longer than 15 characters", bridge)
	}
	if err := os.MkdirAll(nsDir, 0o700); err != nil {
		return nil, err
	}
	n = &network{bridge: bridge, gateway: gw, subnet: subnet, nsDir: nsDir, nat: nat, used: map[string]bool{gw.String(): true}, hostNS: hostNS}
	where := netns.None()
	if hostNS != "" {
		removeNetns(hostNS) // a crashed engine's
		if n.pasta, err = startRootlessNetwork(hostNS); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				n.stopRootless()
			}
		}()
		if where, err = netns.GetFromPath(hostNS); err != nil {
			return nil, err
		}
		defer where.Close()
	}
	if n.nl, err = newNetlinkHandle(where); err != nil {
		return nil, err
	}
	if err := n.ensureBridge(); err != nil {
		return nil, fmt.Errorf("network bridge %s: %w", bridge, err)
	}
	return n, nil
}

// sibling is another bridge beside n, for a user-defined network: in the
// same namespace (the host's, or a rootless engine's own), with a subnet
// and rules of its own, and no pool (its containers are fewer).
func (n *network) sibling(bridge, cidr string, nat bool) (*network, error) {
	gw, subnet, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, fmt.Errorf("network address %q: %w", cidr, err)
	}
	s := &network{bridge: bridge, gateway: gw, subnet: subnet, nsDir: n.nsDir, nat: nat, used: map[string]bool{gw.String(): true}, hostNS: n.hostNS}
	where := netns.None()
	if n.hostNS != "" {
		if where, err = netns.GetFromPath(n.hostNS); err != nil {
			return nil, err
		}
		defer where.Close()
	}
	if s.nl, err = newNetlinkHandle(where); err != nil {
		return nil, err
	}
	if err := s.ensureBridge(); err != nil {
		s.removeBridge()
		return nil, fmt.Errorf("network bridge %s: %w", bridge, err)
	}
	return s, nil
}

// removeBridge deletes a sibling's bridge and its rules.
func (n *network) removeBridge() {
	n.removeRules()
	if l, err := n.nl.LinkByName(n.bridge); err == nil {
		n.nl.LinkDel(l)
	}
	n.nl.Close()
}

// stopRootless ends pasta and the engine's network namespace.
func (n *network) stopRootless() {
	if n.pasta != nil {
		n.pasta.Process.Kill()
		n.pasta.Wait()
		n.pasta = nil
	}
	if n.hostNS != "" {
		removeNetns(n.hostNS)
	}
}

func (n *network) ensureBridge() error {
	link, err := n.nl.LinkByName(n.bridge)
	if err != nil {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.bridge}}
		if err := n.nl.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		if link, err = n.nl.LinkByName(n.bridge); err != nil {
			return err
		}
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: n.gateway, Mask: n.subnet.Mask}}
	if err := n.nl.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	if err := n.nl.LinkSetUp(link); err != nil {
		return err
	}
	n.ensureRules()
	return nil
}

// rules are the iptables rules the bridge needs. Forwarding between its
// containers is always allowed: where dockerd runs, it sets the FORWARD
// policy to DROP and bridged traffic passes through iptables
// (br_netfilter), which would cut containers off from each other. With
// NAT, traffic out and its replies are allowed and masqueraded.
func (n *network) rules() [][]string {
	rules := [][]string{{"filter", "FORWARD", "-i", n.bridge, "-o", n.bridge, "-j", "ACCEPT"}}
	if n.hostNS != "" {
		// pasta sends packets conntrack holds invalid (a window update
		// without ACK): not matched to a masqueraded connection, they would
		// reach the namespace's own stack, which resets the connection.
		rules = append(rules, []string{"filter", "INPUT", "!", "-i", n.bridge, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"})
	}
	if n.nat {
		rules = append(rules,
			[]string{"filter", "FORWARD", "-i", n.bridge, "!", "-o", n.bridge, "-j", "ACCEPT"},
			[]string{"filter", "FORWARD", "-o", n.bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
			[]string{"nat", "POSTROUTING", "-s", n.subnet.String(), "!", "-o", n.bridge, "-j", "MASQUERADE"},
		)
	}
	return rules
}

// ensureRules installs the rules that are missing, first in their chain.
// Best effort: without iptables, containers still reach the host.
func (n *network) ensureRules() {
	if n.nat {
		forward := func() error { return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644) }
		if n.hostNS != "" {
			_ = inNetns(n.hostNS, forward)
		} else {
			_ = forward()
		}
	}
	path, err := exec.LookPath("iptables")
	if err != nil {
		return
	}
	for _, r := range n.rules() {
		table, chain, spec := r[0], r[1], r[2:]
		if n.command(path, append([]string{"-t", table, "-C", chain}, spec...)...).Run() != nil {
			n.command(path, append([]string{"-t", table, "-I", chain, "1"}, spec...)...).Run()
		}
	}
}

func (n *network) removeRules() {
	path, err := exec.LookPath("iptables")
	if err != nil {
		return
	}
	for _, r := range n.rules() {
		n.command(path, append([]string{"-t", r[0], "-D", r[1]}, r[2:]...)...).Run()
	}
}

// lease takes an address for a container; want is the one it had before,
// kept when still free so a restarted container keeps its IP.
func (n *network) lease(want string) (net.IP, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ip := net.ParseIP(want); ip != nil && n.subnet.Contains(ip) && !n.used[want] {
		n.used[want] = true
		return ip, nil
	}
	base := binary.BigEndian.Uint32(n.subnet.IP.To4())
	ones, bits := n.subnet.Mask.Size()
	size := uint32(1) << (bits - ones)
	for i := uint32(2); i < size-1; i++ { // .0 is the network, the last is broadcast
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, base+i)
		if !n.used[ip.String()] {
			n.used[ip.String()] = true
			return ip, nil
		}
	}
	return nil, fmt.Errorf("no free address left in %s", n.subnet)
}

func (n *network) release(ip string) {
	n.mu.Lock()
	delete(n.used, ip)
	n.mu.Unlock()
}

func (n *network) nsPath(id string) string { return filepath.Join(n.nsDir, id) }

// remove deletes the bridge and its rules; for tests, which each make
// their own.
func (n *network) remove() {
	if n.hostNS != "" {
		n.stopRootless() // the bridge and rules go with the namespace
		return
	}
	n.removeRules()
	if l, err := n.nl.LinkByName(n.bridge); err == nil {
		n.nl.LinkDel(l)
	}
}

// setup makes the container's network namespace (a bind-mounted file that
// libcontainer joins), a veth pair into it, and its address and routes.
func (n *network) setup(id string, ip net.IP) (mac string, err error) {
	path := n.nsPath(id)
	if err := newNetns(path); err != nil {
		return "", fmt.Errorf("network namespace: %w", err)
	}
	defer func() {
		if err != nil {
			n.teardown(id)
		}
	}()
	if err := inNetnsSetUp(path, "lo"); err != nil {
		return "", err
	}
	return n.attach(path, "vb"+id[:12], "eth0", ip, true)
}

// inNetnsSetUp brings the link called name up in the namespace at path.
func inNetnsSetUp(path, name string) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := newNetlinkHandle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	return h.LinkSetUp(link)
}

// macFor is the MAC address of a container's interface with address ip,
// as Docker makes it: 02:42 and the four bytes of the IPv4 address. A
// container that takes over a released address (Watch's replaced
// container, a restarted compose service) then has the MAC the host's
// neighbour table still holds for that address; with a random one the
// host went on sending to the old MAC until the entry went stale, up to
// half a minute of a published port not answering.
func macFor(ip net.IP) net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	if v4 := ip.To4(); v4 != nil {
		mac[0], mac[1] = 0x02, 0x42
		copy(mac[2:], v4)
		return mac
	}
	rand.Read(mac)
	mac[0] = (mac[0] | 0x02) & 0xfe // locally administered, unicast
	return mac
}

// attach puts an interface called ifname with address ip into the
// namespace at path, its other end (hostSide) on the bridge; with
// defaultRoute, the bridge's gateway becomes the namespace's way out.
func (n *network) attach(path, hostSide, ifname string, ip net.IP, defaultRoute bool) (mac string, err error) {
	// The peer gets a temporary name: "eth0" is taken in the host's
	// namespace. It is renamed once inside the container's.
	peerSide := "vp" + hostSide[2:]
	macAddr := macFor(ip)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostSide, MTU: n.mtu()}, PeerName: peerSide, PeerHardwareAddr: macAddr}
	if err := n.nl.LinkAdd(veth); err != nil {
		return "", fmt.Errorf("veth: %w", err)
	}
	defer func() {
		if err != nil {
			n.detach(hostSide)
		}
	}()
	br, err := n.nl.LinkByName(n.bridge)
	if err != nil {
		return "", err
	}
	host, err := n.nl.LinkByName(hostSide)
	if err != nil {
		return "", err
	}
	if err := n.nl.LinkSetMaster(host, br); err != nil {
		return "", err
	}
	if err := n.nl.LinkSetUp(host); err != nil {
		return "", err
	}
	peer, err := n.nl.LinkByName(peerSide)
	if err != nil {
		return "", err
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return "", err
	}
	defer ns.Close()
	if err := n.nl.LinkSetNsFd(peer, int(ns)); err != nil {
		return "", fmt.Errorf("move %s into the container: %w", ifname, err)
	}
	h, err := newNetlinkHandle(ns)
	if err != nil {
		return "", err
	}
	defer h.Close()
	eth, err := h.LinkByName(peerSide)
	if err != nil {
		return "", err
	}
	if err := h.LinkSetName(eth, ifname); err != nil {
		return "", err
	}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: n.subnet.Mask}}); err != nil {
		return "", err
	}
	if err := h.LinkSetUp(eth); err != nil {
		return "", err
	}
	if defaultRoute {
		if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: n.gateway}); err != nil {
			return "", fmt.Errorf("default route: %w", err)
		}
	}
	return macAddr.String(), nil
}

// detach removes an interface attach made, by its host side (the veth
// pair goes as one).
func (n *network) detach(hostSide string) {
	if l, err := n.nl.LinkByName(hostSide); err == nil {
		n.nl.LinkDel(l)
	}
}

func (n *network) mtu() int {
	if l, err := n.nl.LinkByName(n.bridge); err == nil && l.Attrs().MTU > 0 {
		return l.Attrs().MTU
	}
	return 1500
}

// teardown removes the namespace (and with it the container's veth end,
// which takes the host end along).
func (n *network) teardown(id string) {
	n.detach("vb" + id[:12])
	removeNetns(n.nsPath(id))
}

// removeNetns undoes newNetns.
func removeNetns(path string) {
	unix.Unmount(path, unix.MNT_DETACH)
	os.Remove(path)
}

// newNetns creates a network namespace kept alive by a bind mount at path.
// The calling goroutine's thread enters it and comes back; the thread is
// locked meanwhile so no other goroutine runs in the new namespace.
func newNetns(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return // the thread is locked and stays so: Go drops it
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		self := "/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/ns/net"
		if err = unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			err = fmt.Errorf("bind %s: %w", self, err)
		}
		// Back to where the thread was; where it may not go back (a
		// rootless engine may leave the host's namespace, not enter it),
		// it stays locked and ends with this goroutine.
		if netns.Set(orig) == nil {
			goruntime.UnlockOSThread()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// portProxy forwards one published host port to the container, in user
// space like docker-proxy, so that 127.0.0.1:PORT reaches the container.
type portProxy struct {
	ln     net.Listener   // TCP
	pc     net.PacketConn // UDP
	port   int            // host port
	target string
	dial   func(network, addr string) (net.Conn, error)
	wg     sync.WaitGroup
}

// listenPorts binds every published port before the container starts, so
// a port in use fails the start before anything runs. HostPort 0 gets a
// free port, written back into the binding. anyAddress listens on every
// address whatever HostIP names (WithPortsOnAnyAddress).
func listenPorts(bindings []engine.PortBinding, anyAddress bool) ([]*portProxy, []engine.PortBinding, error) {
	var proxies []*portProxy
	var out []engine.PortBinding
	fail := func(err error) ([]*portProxy, []engine.PortBinding, error) {
		for _, p := range proxies {
			p.close()
		}
		return nil, nil, err
	}
	for _, b := range bindings {
		proto := b.Proto
		if proto == "" {
			proto = "tcp"
		}
		listenIP := b.HostIP
		if anyAddress {
			listenIP = ""
		}
		addr := net.JoinHostPort(listenIP, strconv.Itoa(b.HostPort))
		p := &portProxy{}
		var err error
		switch proto {
		case "tcp":
			if p.ln, err = net.Listen("tcp", addr); err == nil {
				p.port = p.ln.Addr().(*net.TCPAddr).Port
			}
		case "udp":
			if p.pc, err = net.ListenPacket("udp", addr); err == nil {
				p.port = p.pc.LocalAddr().(*net.UDPAddr).Port
			}
		default:
			return fail(fmt.Errorf("publish %s/%s: only tcp and udp can be published: %w", addr, proto, engine.ErrInvalidArgument))
		}
		if err != nil {
			if errors.Is(err, unix.EADDRINUSE) {
				return fail(fmt.Errorf("Bind for %s failed: port is already allocated: %w", addr, engine.ErrConflict))
			}
			return fail(fmt.Errorf("publish %s/%s: %w", addr, proto, err))
		}
		b.HostPort, b.Proto = p.port, proto
		out = append(out, b)
		proxies = append(proxies, p)
	}
	return proxies, out, nil
}

// serve starts forwarding to the container at ip.
func (p *portProxy) serve(ip string, port int, dial func(network, addr string) (net.Conn, error)) {
	p.target = net.JoinHostPort(ip, strconv.Itoa(port))
	p.dial = dial
	p.wg.Add(1)
	if p.pc != nil {
		go func() { defer p.wg.Done(); p.serveUDP() }()
		return
	}
	go func() {
		defer p.wg.Done()
		for {
			conn, err := p.ln.Accept()
			if err != nil {
				return
			}
			go p.forward(conn)
		}
	}()
}

// udpIdle is how long a UDP flow lives without traffic, as docker-proxy.
const udpIdle = 90 * time.Second

// serveUDP relays datagrams: one socket to the container per client
// address, so replies find their way back.
func (p *portProxy) serveUDP() {
	target, err := net.ResolveUDPAddr("udp", p.target)
	if err != nil {
		return
	}
	var mu sync.Mutex
	flows := map[string]*net.UDPConn{}
	defer func() {
		mu.Lock()
		for _, c := range flows {
			c.Close()
		}
		mu.Unlock()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, client, err := p.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		mu.Lock()
		backend, ok := flows[client.String()]
		if !ok {
			conn, err := p.dial("udp", target.String())
			if err != nil {
				mu.Unlock()
				continue
			}
			backend = conn.(*net.UDPConn)
			flows[client.String()] = backend
			go func() {
				defer func() {
					mu.Lock()
					delete(flows, client.String())
					mu.Unlock()
					backend.Close()
				}()
				reply := make([]byte, 64<<10)
				for {
					backend.SetReadDeadline(time.Now().Add(udpIdle))
					n, err := backend.Read(reply)
					if err != nil {
						return
					}
					p.pc.WriteTo(reply[:n], client)
				}
			}()
		}
		mu.Unlock()
		backend.Write(buf[:n])
	}
}

func (p *portProxy) close() {
	if p.ln != nil {
		p.ln.Close()
	}
	if p.pc != nil {
		p.pc.Close()
	}
	p.wg.Wait()
}

func (p *portProxy) forward(client net.Conn) {
	defer client.Close()
	backend, err := p.dial("tcp", p.target)
	if err != nil {
		return
	}
	defer backend.Close()
	iox.Splice(client, backend)
}
