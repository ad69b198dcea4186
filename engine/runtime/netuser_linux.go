package runtime

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
)

// User-defined networks (docker network create, a compose project's
// network): each is a bridge of its own beside the engine's, with a
// subnet from the address pool and a DNS server at its gateway that
// answers for the names of the containers on it.

// userNet is one user-defined network.
type userNet struct {
	meta engine.Network // as kept on disk: no endpoints
	n    *network
	dns  *dnsServer
}

// Defaults for the pool user-defined networks take their subnets from
// (dockerd's --default-address-pool): podman's choice, clear of the
// engine's bridge and of Docker's 172.17-31 and 192.168.
const (
	DefaultAddressPool = "10.89.0.0/16"
	DefaultPoolSize    = 24
)

// WithAddressPool sets the pool user-defined networks' subnets are cut
// from, and their prefix length.
func WithAddressPool(cidr string, size int) Option {
	return func(o *options) { o.pool, o.poolSize = cidr, size }
}

// loadNetworks brings up the networks kept under dir.
func (rt *Runtime) loadNetworks() {
	entries, _ := os.ReadDir(rt.netDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(rt.netDir, e.Name()))
		if err != nil {
			continue
		}
		var meta engine.Network
		if json.Unmarshal(data, &meta) != nil || meta.ID == "" {
			continue
		}
		un := &userNet{meta: meta}
		if err := rt.bringUp(un); err != nil {
			fmt.Fprintf(os.Stderr, "network %s: %v (its containers cannot start until it is made again)\n", meta.Name, err)
		}
		rt.nets[meta.ID] = un
	}
}

// bringUp makes the network's bridge, rules and DNS server.
func (rt *Runtime) bringUp(un *userNet) error {
	_, subnet, err := net.ParseCIDR(un.meta.Subnet)
	if err != nil {
		return err
	}
	ones, _ := subnet.Mask.Size()
	n, err := rt.net.sibling("br-"+un.meta.ID[:12], fmt.Sprintf("%s/%d", un.meta.Gateway, ones), !un.meta.Internal)
	if err != nil {
		return err
	}
	id := un.meta.ID
	dns, err := startDNS(n.gateway, rt.net.hostNS, func(name string, from net.IP) []net.IP { return rt.lookup(id, name, from) })
	if err != nil {
		n.removeBridge()
		return fmt.Errorf("its DNS server: %w", err)
	}
	un.n, un.dns = n, dns
	return nil
}

func (un *userNet) bringDown() {
	if un.dns != nil {
		un.dns.close()
	}
	if un.n != nil {
		un.n.removeBridge()
	}
	un.n, un.dns = nil, nil
}

// network finds a user-defined network by name, ID or unique ID prefix;
// the caller holds rt.netMu.
func (rt *Runtime) network(ref string) (*userNet, error) {
	if un, ok := rt.nets[ref]; ok {
		return un, nil
	}
	for _, un := range rt.nets {
		if un.meta.Name == ref {
			return un, nil
		}
	}
	var found *userNet
	for id, un := range rt.nets {
		if ref != "" && strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, fmt.Errorf("network %s is ambiguous: more than one network's ID starts with it: %w", ref, engine.ErrConflict)
			}
			found = un
		}
	}
	if found == nil {
		return nil, fmt.Errorf("network %s not found: %w", ref, engine.ErrNotFound)
	}
	return found, nil
}

// CreateNetwork makes a user-defined bridge network.
func (rt *Runtime) CreateNetwork(ctx context.Context, opts engine.NetworkOptions) (engine.Network, error) {
	if !validName.MatchString(opts.Name) {
		return engine.Network{}, fmt.Errorf("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", opts.Name, engine.ErrInvalidArgument)
	}
	switch opts.Name {
	case "bridge", "host", "none", "default":
		return engine.Network{}, fmt.Errorf("%s is a pre-defined network and cannot be created: %w", opts.Name, engine.ErrConflict)
	}
	rt.netMu.Lock()
	defer rt.netMu.Unlock()
	for _, un := range rt.nets {
		if un.meta.Name == opts.Name {
			return engine.Network{}, fmt.Errorf("network with name %s already exists: %w", opts.Name, engine.ErrConflict)
		}
	}
	subnet, gateway, err := rt.chooseSubnet(opts.Subnet, opts.Gateway)
	if err != nil {
		return engine.Network{}, err
	}
	un := &userNet{meta: engine.Network{ID: newID(), Name: opts.Name, Subnet: subnet, Gateway: gateway, Internal: opts.Internal,
		Labels: maps.Clone(opts.Labels), Created: time.Now().UTC()}}
	if un.meta.Labels == nil {
		un.meta.Labels = map[string]string{}
	}
	if err := rt.bringUp(un); err != nil {
		return engine.Network{}, fmt.Errorf("create network %s: %w", opts.Name, err)
	}
	data, _ := json.MarshalIndent(un.meta, "", "  ")
	if err := iox.WriteFileAtomic(filepath.Join(rt.netDir, un.meta.ID+".json"), data, rt.netDir); err != nil {
		un.bringDown()
		return engine.Network{}, fmt.Errorf("create network %s: %w", opts.Name, err)
	}
	rt.nets[un.meta.ID] = un
	rt.networkEvent("create", un.meta, "")
	return un.meta, nil
}

// chooseSubnet checks a subnet asked for, or cuts the first free one from
// the pool: free of the engine's networks and of every route where the
// bridges live (another engine's, a VPN's).
func (rt *Runtime) chooseSubnet(subnet, gateway string) (string, string, error) {
	taken := []*net.IPNet{rt.net.subnet}
	for _, un := range rt.nets {
		if _, s, err := net.ParseCIDR(un.meta.Subnet); err == nil {
			taken = append(taken, s)
		}
	}
	if routes, err := rt.net.nl.RouteList(nil, netlink.FAMILY_V4); err == nil {
		for _, r := range routes {
			if r.Dst != nil && !r.Dst.IP.IsUnspecified() {
				taken = append(taken, r.Dst)
			}
		}
	}
	overlaps := func(s *net.IPNet) bool {
		return slices.ContainsFunc(taken, func(t *net.IPNet) bool { return t.Contains(s.IP) || s.Contains(t.IP) })
	}
	withGateway := func(s *net.IPNet) (string, string, error) {
		gw := net.ParseIP(gateway).To4()
		if gateway == "" {
			gw = make(net.IP, 4)
			binary.BigEndian.PutUint32(gw, binary.BigEndian.Uint32(s.IP.To4())+1)
		}
		if gw == nil || !s.Contains(gw) {
			return "", "", fmt.Errorf("gateway %q is not an IPv4 address in %s: %w", gateway, s, engine.ErrInvalidArgument)
		}
		return s.String(), gw.String(), nil
	}
	if subnet != "" {
		_, s, err := net.ParseCIDR(subnet)
		if err != nil || s.IP.To4() == nil {
			return "", "", fmt.Errorf("invalid subnet %q: write an IPv4 network like 10.90.0.0/24: %w", subnet, engine.ErrInvalidArgument)
		}
		if ones, _ := s.Mask.Size(); ones > 30 {
			return "", "", fmt.Errorf("subnet %s is too small for containers: %w", subnet, engine.ErrInvalidArgument)
		}
		if overlaps(s) {
			return "", "", fmt.Errorf("invalid pool request: Pool overlaps with other one on this address space (%s): %w", subnet, engine.ErrConflict)
		}
		return withGateway(s)
	}
	_, pool, err := net.ParseCIDR(rt.pool)
	if err != nil {
		return "", "", err
	}
	poolOnes, _ := pool.Mask.Size()
	base := binary.BigEndian.Uint32(pool.IP.To4())
	step := uint32(1) << (32 - rt.poolSize)
	for i := uint32(0); i < 1<<(rt.poolSize-poolOnes); i++ {
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, base+i*step)
		s := &net.IPNet{IP: ip, Mask: net.CIDRMask(rt.poolSize, 32)}
		if !overlaps(s) {
			return withGateway(s)
		}
	}
	return "", "", fmt.Errorf("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network (%s is used up; remove unused networks with docker network prune): %w", rt.pool, engine.ErrConflict)
}

// ListNetworks lists the user-defined networks with their endpoints.
func (rt *Runtime) ListNetworks(ctx context.Context) ([]engine.Network, error) {
	rt.netMu.Lock()
	list := make([]engine.Network, 0, len(rt.nets))
	for _, un := range rt.nets {
		list = append(list, un.meta)
	}
	rt.netMu.Unlock()
	eps := rt.endpoints()
	for i := range list {
		list[i].Endpoints = eps[list[i].ID]
	}
	slices.SortFunc(list, func(a, b engine.Network) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// InspectNetwork finds one network, with its endpoints.
func (rt *Runtime) InspectNetwork(ctx context.Context, ref string) (engine.Network, error) {
	rt.netMu.Lock()
	un, err := rt.network(ref)
	rt.netMu.Unlock()
	if err != nil {
		return engine.Network{}, err
	}
	n := un.meta
	n.Endpoints = rt.endpoints()[n.ID]
	return n, nil
}

// endpoints are the containers attached to each network, by network ID.
func (rt *Runtime) endpoints() map[string][]engine.Attachment {
	out := map[string][]engine.Attachment{}
	for _, c := range rt.containers() {
		c.mu.Lock()
		for _, a := range c.rec.Networks {
			out[a.NetworkID] = append(out[a.NetworkID], a)
		}
		c.mu.Unlock()
	}
	return out
}

// containers are the runtime's containers now (not placeholders).
func (rt *Runtime) containers() []*ctr {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []*ctr
	for _, c := range rt.byID {
		if c.rt != nil {
			out = append(out, c)
		}
	}
	return out
}

// RemoveNetwork removes a network no running container is attached to;
// stopped ones are detached from it. (Locks: a container's before netMu,
// as a start takes them.)
func (rt *Runtime) RemoveNetwork(ctx context.Context, ref string) error {
	switch ref {
	case "bridge", "host", "none":
		return fmt.Errorf("%s is a pre-defined network and cannot be removed: %w", ref, engine.ErrForbidden)
	}
	rt.netMu.Lock()
	un, err := rt.network(ref)
	rt.netMu.Unlock()
	if err != nil {
		return err
	}
	for _, c := range rt.containers() {
		c.mu.Lock()
		attached := c.rec.attachedTo(un.meta.ID) >= 0
		if attached && c.running {
			c.mu.Unlock()
			return fmt.Errorf("error while removing network: network %s id %s has active endpoints (container %s): %w", un.meta.Name, un.meta.ID, c.rec.Name, engine.ErrConflict)
		}
		if attached {
			c.rec.Networks = slices.DeleteFunc(c.rec.Networks, func(a engine.Attachment) bool { return a.NetworkID == un.meta.ID })
			c.rec.save(c.dir)
		}
		c.mu.Unlock()
	}
	rt.netMu.Lock()
	defer rt.netMu.Unlock()
	if _, ok := rt.nets[un.meta.ID]; !ok {
		return fmt.Errorf("network %s not found: %w", ref, engine.ErrNotFound) // removed meanwhile
	}
	if err := os.Remove(filepath.Join(rt.netDir, un.meta.ID+".json")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove network %s: %w", un.meta.Name, err)
	}
	un.bringDown()
	delete(rt.nets, un.meta.ID)
	rt.networkEvent("destroy", un.meta, "")
	return nil
}

// attachment is a container's attachment to the network un, for rec.
func (un *userNet) attachment(rec *record, aliases []string) engine.Attachment {
	return engine.Attachment{NetworkID: un.meta.ID, Network: un.meta.Name, ContainerID: rec.ID, ContainerName: rec.Name,
		Aliases: slices.Compact(append(slices.Clone(aliases), rec.ID[:12]))} // the short ID too, as dockerd (compose checks it)
}

// ConnectNetwork attaches a container to a network: at its next start, and
// at once when it runs.
func (rt *Runtime) ConnectNetwork(ctx context.Context, network, container string, aliases []string) error {
	return rt.withAttachment(network, container, func(c *ctr, un *userNet) error {
		return rt.connect(c, un, aliases)
	})
}

// withAttachment runs fn with the container and the network found, their
// locks held in the order a start takes them (the container's first).
func (rt *Runtime) withAttachment(network, container string, fn func(*ctr, *userNet) error) error {
	c, err := rt.find(container)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rt.netMu.Lock()
	defer rt.netMu.Unlock()
	un, err := rt.network(network)
	if err != nil {
		return err
	}
	return fn(c, un)
}

// attachedTo is the index of rec's attachment to the network netID, -1
// when it has none.
func (rec *record) attachedTo(netID string) int {
	return slices.IndexFunc(rec.Networks, func(a engine.Attachment) bool { return a.NetworkID == netID })
}

func (rt *Runtime) connect(c *ctr, un *userNet, aliases []string) error {
	switch c.rec.Spec.Network {
	case "host", "none":
		return fmt.Errorf("container %s uses the %s network, which cannot be combined with others: %w", c.rec.Name, c.rec.Spec.Network, engine.ErrInvalidArgument)
	}
	if c.rec.attachedTo(un.meta.ID) >= 0 {
		return fmt.Errorf("endpoint with name %s already exists in network %s: %w", c.rec.Name, un.meta.Name, engine.ErrConflict)
	}
	a := un.attachment(c.rec, aliases)
	if c.running && c.rec.NetNS != "" {
		next := len(c.rec.Networks) // eth0 is the first network's…
		if c.rec.Spec.OnBridge() {
			next++ // …or the engine's bridge's
		}
		if err := rt.plug(c.rec, &a, next); err != nil {
			return err
		}
	}
	c.rec.Networks = append(c.rec.Networks, a)
	if err := c.rec.save(c.dir); err != nil {
		return err
	}
	rt.networkEvent("connect", un.meta, c.rec.ID)
	return nil
}

// DisconnectNetwork detaches a container from a network, at once when it
// runs.
func (rt *Runtime) DisconnectNetwork(ctx context.Context, network, container string) error {
	return rt.withAttachment(network, container, rt.disconnect)
}

func (rt *Runtime) disconnect(c *ctr, un *userNet) error {
	i := c.rec.attachedTo(un.meta.ID)
	if i < 0 {
		return fmt.Errorf("container %s is not connected to network %s: %w", c.rec.Name, un.meta.Name, engine.ErrNotFound)
	}
	if a := c.rec.Networks[i]; c.running && a.IPAddress != "" {
		if i == 0 && c.rec.Spec.Network == un.meta.Name {
			return fmt.Errorf("container %s runs with %s as its network: stop it first: %w", c.rec.Name, un.meta.Name, engine.ErrConflict)
		}
		un.n.detach(hostSide(c.rec.ID, un.meta.ID))
		un.n.release(a.IPAddress)
	}
	c.rec.Networks = slices.Delete(c.rec.Networks, i, i+1)
	if err := c.rec.save(c.dir); err != nil {
		return err
	}
	rt.networkEvent("disconnect", un.meta, c.rec.ID)
	return nil
}

// hostSide names the host's end of a container's interface on a network
// other than its first (15 characters at most, as Linux wants).
func hostSide(containerID, networkID string) string { return "vb" + containerID[:6] + networkID[:6] }

// plug gives a running container (rec, its namespace made) an interface on
// a's network, eth<index>; the caller holds rt.netMu.
func (rt *Runtime) plug(rec *record, a *engine.Attachment, index int) error {
	un, ok := rt.nets[a.NetworkID]
	if !ok || un.n == nil {
		return fmt.Errorf("network %s is gone or not up: %w", a.Network, engine.ErrNotFound)
	}
	ip, err := un.n.lease(a.IPAddress)
	if err != nil {
		return err
	}
	mac, err := un.n.attach(rt.net.nsPath(rec.NetNS), hostSide(rec.ID, un.meta.ID), fmt.Sprintf("eth%d", index), ip, false)
	if err != nil {
		un.n.release(ip.String())
		return fmt.Errorf("connect to network %s: %w", un.meta.Name, err)
	}
	a.IPAddress, a.Gateway, a.MacAddress = ip.String(), un.n.gateway.String(), mac
	a.PrefixLen, _ = un.n.subnet.Mask.Size()
	return nil
}

// startNetworks gives a starting container (its lock held) its network
// namespace: the engine's bridge (from the pool), or its first
// user-defined network, and an interface on each of its other networks.
// It returns the namespace's path ("" for the host's or none) and undoes
// itself on failure.
func (rt *Runtime) startNetworks(rec *record) (path string, err error) {
	rt.netMu.Lock()
	defer rt.netMu.Unlock()
	defer func() {
		if err != nil {
			rt.releaseNetworks(rec)
		}
	}()
	rest := rec.Networks
	switch rec.Spec.Network {
	case "host", "none":
		return "", nil
	case "", "bridge", "default":
		ns, err := rt.net.take()
		if err != nil {
			return "", fmt.Errorf("container network: %w", err)
		}
		rec.NetNS, rec.IPAddress, rec.Gateway, rec.MacAddress = ns.id, ns.ip.String(), rt.net.gateway.String(), ns.mac
	default:
		if len(rest) == 0 || rest[0].Network != rec.Spec.Network {
			return "", nil // disconnected from its network: only loopback, as dockerd
		}
		first := &rest[0]
		un, ok := rt.nets[first.NetworkID]
		if !ok || un.n == nil {
			return "", fmt.Errorf("network %s not found (removed, or it could not be made when the engine started): %w", first.Network, engine.ErrNotFound)
		}
		ns, err := un.n.prepare(first.IPAddress)
		if err != nil {
			return "", fmt.Errorf("container network %s: %w", first.Network, err)
		}
		rec.NetNS, rec.IPAddress, rec.Gateway, rec.MacAddress = ns.id, ns.ip.String(), un.n.gateway.String(), ns.mac
		first.IPAddress, first.Gateway, first.MacAddress = rec.IPAddress, rec.Gateway, rec.MacAddress
		first.PrefixLen, _ = un.n.subnet.Mask.Size()
		rest = rest[1:]
	}
	for i := range rest {
		if err := rt.plug(rec, &rest[i], i+1); err != nil {
			return "", err
		}
	}
	return rt.net.nsPath(rec.NetNS), nil
}

// releaseNetworks tears a run's namespace down (in the background: the
// kernel is slow at it) and frees its addresses; the caller holds rt.netMu.
func (rt *Runtime) releaseNetworks(rec *record) {
	nsID := rec.NetNS
	userPrimary := !rec.Spec.OnBridge()
	if ip := net.ParseIP(rec.IPAddress); ip != nil && nsID != "" && !userPrimary {
		rt.net.discard(&netns0{id: nsID, ip: ip})
	} else if nsID != "" {
		go rt.net.teardown(nsID) // the host ends of every interface go with it
	}
	for i := range rec.Networks {
		a := &rec.Networks[i]
		if un, ok := rt.nets[a.NetworkID]; ok && un.n != nil && a.IPAddress != "" {
			un.n.release(a.IPAddress)
		}
		a.IPAddress, a.Gateway, a.MacAddress, a.PrefixLen = "", "", "", 0
	}
	rec.NetNS = ""
}

// lookup answers the DNS server of network netID: the address of the
// container called name on the networks of the one asking (from), or on
// netID itself.
func (rt *Runtime) lookup(netID, name string, from net.IP) []net.IP {
	type entry struct {
		names []string
		nets  map[string]string // network ID → address
	}
	var all []entry
	for _, c := range rt.containers() {
		c.mu.Lock()
		if c.running {
			e := entry{names: []string{c.rec.Name, c.rec.hostname(), c.rec.ID[:12]}, nets: map[string]string{}}
			for _, a := range c.rec.Networks {
				if a.IPAddress != "" {
					e.nets[a.NetworkID] = a.IPAddress
					e.names = append(e.names, a.Aliases...)
				}
			}
			all = append(all, e)
		}
		c.mu.Unlock()
	}
	// The networks the asker is on: its view of names.
	asked := map[string]bool{netID: true}
	for _, e := range all {
		if slices.Contains(slices.Collect(maps.Values(e.nets)), from.String()) {
			for id := range e.nets {
				asked[id] = true
			}
		}
	}
	var ips []net.IP
	for _, e := range all {
		if !slices.ContainsFunc(e.names, func(n string) bool { return strings.EqualFold(n, name) }) {
			continue
		}
		for id, ip := range e.nets {
			if asked[id] {
				ips = append(ips, net.ParseIP(ip))
				break
			}
		}
	}
	return ips
}

func (rt *Runtime) networkEvent(action string, n engine.Network, containerID string) {
	if rt.publish == nil {
		return
	}
	a := map[string]string{"name": n.Name, "type": "bridge"}
	if containerID != "" {
		a["container"] = containerID
	}
	rt.publish(engine.Event{Type: "network", Action: action, ID: n.ID, Attributes: a, Time: time.Now()})
}

// closeNetworks stops the networks' DNS servers; with remove, their
// bridges and rules go too (the engine is shutting down).
func (rt *Runtime) closeNetworks(remove bool) {
	rt.netMu.Lock()
	defer rt.netMu.Unlock()
	for _, un := range rt.nets {
		if remove {
			un.bringDown()
		} else if un.dns != nil {
			un.dns.close()
			un.dns = nil
		}
	}
}
