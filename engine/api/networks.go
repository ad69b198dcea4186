package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
)

// Berth has the networks every Docker engine has (the bridge its
// containers attach to by default, host and none) and the user-defined
// bridge networks made with docker network create or by compose, whose
// containers reach each other by name. All are listed and inspected as
// dockerd does.

type networkJSON struct {
	Name       string
	ID         string `json:"Id"`
	Created    string
	Scope      string
	Driver     string
	EnableIPv6 bool
	IPAM       networkIPAM
	Internal   bool
	Attachable bool
	Ingress    bool
	Containers map[string]networkEndpoint
	Options    map[string]string
	Labels     map[string]string
}

type networkIPAM struct {
	Driver  string
	Options map[string]string
	Config  []map[string]string
}

type networkEndpoint struct {
	Name        string
	EndpointID  string
	MacAddress  string
	IPv4Address string
	IPv6Address string
}

// predefined are the networks Berth has.
func (s *server) predefined() []networkJSON {
	created := s.started.UTC().Format(time.RFC3339Nano)
	mk := func(name, driver string) networkJSON {
		return networkJSON{Name: name, ID: networkID(name), Created: created, Scope: "local", Driver: driver,
			IPAM:       networkIPAM{Driver: "default", Options: map[string]string{}, Config: []map[string]string{}},
			Containers: map[string]networkEndpoint{}, Options: map[string]string{}, Labels: map[string]string{}}
	}
	bridge := mk("bridge", "bridge")
	if prefix, err := netip.ParsePrefix(s.info.BridgeCIDR); err == nil {
		bridge.IPAM.Config = []map[string]string{{"Subnet": prefix.Masked().String(), "Gateway": prefix.Addr().String()}}
	}
	bridge.Options["com.docker.network.bridge.name"] = s.info.BridgeName
	return []networkJSON{bridge, mk("host", "host"), mk("none", "null")}
}

// networkID is a predefined network's ID: a hash of its name, the same
// on every start, as stable as dockerd's.
func networkID(name string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte("berth-network:"+name)))
}

// userNetworkJSON is a user-defined network as dockerd shows it.
func userNetworkJSON(n engine.Network) networkJSON {
	j := networkJSON{Name: n.Name, ID: n.ID, Created: n.Created.Format(time.RFC3339Nano), Scope: "local", Driver: "bridge",
		Internal: n.Internal, Attachable: true,
		IPAM:       networkIPAM{Driver: "default", Options: map[string]string{}, Config: []map[string]string{{"Subnet": n.Subnet, "Gateway": n.Gateway}}},
		Containers: map[string]networkEndpoint{}, Options: map[string]string{"com.docker.network.bridge.name": "br-" + n.ID[:12]},
		Labels: nonNilMap(n.Labels)}
	for _, e := range n.Endpoints {
		if e.IPAddress != "" { // dockerd lists running endpoints
			j.Containers[e.ContainerID] = networkEndpoint{Name: e.ContainerName, EndpointID: e.ContainerID, MacAddress: e.MacAddress,
				IPv4Address: fmt.Sprintf("%s/%d", e.IPAddress, e.PrefixLen)}
		}
	}
	return j
}

// networkRoutes serves /networks…; false when p is not one of them.
func (s *server) networkRoutes(w http.ResponseWriter, r *http.Request, p string) bool {
	if p != "/networks" && !strings.HasPrefix(p, "/networks/") {
		return false
	}
	m := r.Method
	rest := strings.TrimPrefix(p, "/networks")
	ref, verb, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	switch {
	case rest == "" && m == http.MethodGet:
		s.networkList(w, r)
	case rest == "/create" && m == http.MethodPost:
		s.networkCreate(w, r)
	case rest == "/prune" && m == http.MethodPost:
		s.networkPrune(w, r)
	case verb == "" && m == http.MethodGet:
		if n, ok := s.network(ref); ok {
			s.fillBridge(r, &n)
			writeJSON(w, http.StatusOK, n)
			return true
		}
		if s.b.Networks == nil {
			writeError(w, http.StatusNotFound, fmt.Errorf("network %s not found: %w", ref, engine.ErrNotFound))
			return true
		}
		n, err := s.b.Networks.InspectNetwork(r.Context(), ref)
		if err != nil {
			writeEngineError(w, err)
			return true
		}
		writeJSON(w, http.StatusOK, userNetworkJSON(n))
	case verb == "" && m == http.MethodDelete:
		if n, ok := s.network(ref); ok {
			writeError(w, http.StatusForbidden, fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name))
			return true
		}
		if s.b.Networks == nil {
			writeError(w, http.StatusNotFound, fmt.Errorf("network %s not found: %w", ref, engine.ErrNotFound))
			return true
		}
		s.noContent(w, s.b.Networks.RemoveNetwork(r.Context(), ref))
	case (verb == "connect" || verb == "disconnect") && m == http.MethodPost:
		s.networkConnect(w, r, ref, verb == "connect")
	default:
		writeError(w, http.StatusNotFound, errors.New("page not found"))
	}
	return true
}

// fillBridge lists the bridge network's running containers.
func (s *server) fillBridge(r *http.Request, n *networkJSON) {
	if n.Name != "bridge" || s.b.ContainerViews == nil {
		return
	}
	list, err := s.b.ContainerViews.List(r.Context(), false)
	if err != nil {
		return
	}
	bits := ""
	if prefix, err := netip.ParsePrefix(s.info.BridgeCIDR); err == nil {
		bits = "/" + strconv.Itoa(prefix.Bits())
	}
	for _, c := range list {
		if c.Spec.OnBridge() && c.IPAddress != "" {
			n.Containers[c.ID] = networkEndpoint{Name: c.Name, EndpointID: c.ID, MacAddress: c.MacAddress, IPv4Address: c.IPAddress + bits}
		}
	}
}

// networkList is docker network ls, with its filters: name (a part of
// it), id (a prefix), label, driver, type (builtin or custom).
func (s *server) networkList(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	all := s.predefined()
	for i := range all {
		s.fillBridge(r, &all[i])
	}
	if s.b.Networks != nil {
		user, err := s.b.Networks.ListNetworks(r.Context())
		if err != nil {
			writeEngineError(w, err)
			return
		}
		for _, n := range user {
			all = append(all, userNetworkJSON(n))
		}
	}
	out := []networkJSON{}
	for _, n := range all {
		builtin := n.Name == "bridge" || n.Name == "host" || n.Name == "none"
		if anyOrNone(f["name"], func(v string) bool { return strings.Contains(n.Name, v) }) &&
			anyOrNone(f["id"], func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
			anyOrNone(f["driver"], func(v string) bool { return v == n.Driver }) &&
			anyOrNone(f["type"], func(v string) bool { return v == "builtin" && builtin || v == "custom" && !builtin }) &&
			engine.MatchLabels(f["label"], n.Labels) {
			out = append(out, n)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// networkCreate is docker network create: a bridge network of its own;
// what Berth does not do is refused with why, never dropped.
func (s *server) networkCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name       string
		Driver     string
		Internal   bool
		Attachable bool
		Ingress    bool
		EnableIPv6 *bool
		ConfigOnly bool
		ConfigFrom *struct{ Network string }
		IPAM       *struct {
			Driver  string
			Config  []struct{ Subnet, IPRange, Gateway string }
			Options map[string]string
		}
		Options map[string]string
		Labels  map[string]string
	}
	if !decodeJSON(w, r, &req, "network create request") {
		return
	}
	if s.b.Networks == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine makes no networks: %w", engine.ErrNotSupported))
		return
	}
	var refuse []string
	add := func(cond bool, what string) {
		if cond {
			refuse = append(refuse, what)
		}
	}
	add(req.Driver != "" && req.Driver != "bridge", "the "+req.Driver+" driver (Berth makes bridge networks)")
	add(req.EnableIPv6 != nil && *req.EnableIPv6, "IPv6")
	add(req.Ingress || req.ConfigOnly || req.ConfigFrom != nil, "swarm and config-only networks")
	add(len(req.Options) > 0, "driver options (-o)")
	opts := engine.NetworkOptions{Name: req.Name, Labels: req.Labels, Internal: req.Internal}
	if req.IPAM != nil {
		add(req.IPAM.Driver != "" && req.IPAM.Driver != "default", "the "+req.IPAM.Driver+" IPAM driver")
		add(len(req.IPAM.Options) > 0, "IPAM options")
		add(len(req.IPAM.Config) > 1, "more than one subnet")
		if len(req.IPAM.Config) > 0 {
			c := req.IPAM.Config[0]
			add(c.IPRange != "", "--ip-range")
			opts.Subnet, opts.Gateway = c.Subnet, c.Gateway
		}
	}
	if len(refuse) > 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("Berth does not support %s: %w", strings.Join(refuse, ", "), engine.ErrNotSupported))
		return
	}
	n, err := s.b.Networks.CreateNetwork(r.Context(), opts)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"Id": n.ID, "Warning": ""})
}

// networkConnect is docker network connect and disconnect.
func (s *server) networkConnect(w http.ResponseWriter, r *http.Request, ref string, connect bool) {
	var req struct {
		Container      string
		Force          bool
		EndpointConfig *struct {
			Aliases    []string
			IPAMConfig *struct{ IPv4Address, IPv6Address string }
			Links      []string
		}
	}
	if !decodeJSON(w, r, &req, "network connect request") {
		return
	}
	if n, ok := s.network(ref); ok {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("containers join the %s network only when they are created (docker run --network %[1]s): %w", n.Name, engine.ErrNotSupported))
		return
	}
	if s.b.Networks == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("network %s not found: %w", ref, engine.ErrNotFound))
		return
	}
	if !connect {
		s.noContent(w, s.b.Networks.DisconnectNetwork(r.Context(), ref, req.Container))
		return
	}
	var aliases []string
	if ec := req.EndpointConfig; ec != nil {
		if ec.IPAMConfig != nil && (ec.IPAMConfig.IPv4Address != "" || ec.IPAMConfig.IPv6Address != "") || len(ec.Links) > 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("Berth does not support --ip, --ip6 or --link on a network yet: %w", engine.ErrNotSupported))
			return
		}
		aliases = ec.Aliases
	}
	if err := s.b.Networks.ConnectNetwork(r.Context(), ref, req.Container, aliases); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// networkPrune removes the user-defined networks no container is attached
// to, whose labels match the label filters.
func (s *server) networkPrune(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	deleted := []string{}
	if s.b.Networks != nil {
		list, err := s.b.Networks.ListNetworks(r.Context())
		if err != nil {
			writeEngineError(w, err)
			return
		}
		for _, n := range list {
			if len(n.Endpoints) == 0 && engine.MatchLabels(f["label"], n.Labels) {
				if s.b.Networks.RemoveNetwork(r.Context(), n.ID) == nil {
					deleted = append(deleted, n.Name)
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"NetworksDeleted": deleted})
}

// network finds a predefined network by name, ID or ID prefix.
func (s *server) network(ref string) (networkJSON, bool) {
	for _, n := range s.predefined() {
		if n.Name == ref || n.ID == ref || len(ref) >= 3 && strings.HasPrefix(n.ID, ref) {
			return n, true
		}
	}
	return networkJSON{}, false
}
