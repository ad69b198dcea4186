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

// Berth has the networks every Docker engine has and no others yet: the
// bridge its containers attach to, host and none. They are listed and
// inspected as dockerd does; user-defined networks are refused in words
// (501), so compose and the CLI say why instead of "page not found".

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

// networkRoutes serves /networks…; false when p is not one of them.
func (s *server) networkRoutes(w http.ResponseWriter, r *http.Request, p string) bool {
	if p != "/networks" && !strings.HasPrefix(p, "/networks/") {
		return false
	}
	m := r.Method
	rest := strings.TrimPrefix(p, "/networks")
	switch {
	case rest == "" && m == http.MethodGet:
		writeJSON(w, http.StatusOK, s.predefined())
	case rest == "/create" && m == http.MethodPost:
		writeError(w, http.StatusNotImplemented, fmt.Errorf("Berth does not create networks yet: its containers share the bridge network (reach each other by IP, or publish ports); compose projects that need a network of their own cannot run on Berth today: %w", engine.ErrNotSupported))
	case rest == "/prune" && m == http.MethodPost:
		writeJSON(w, http.StatusOK, map[string]any{"NetworksDeleted": []string{}}) // the predefined ones are never pruned
	case strings.Count(rest, "/") == 1 && m == http.MethodGet:
		n, ok := s.network(rest[1:])
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("network %s not found", rest[1:]))
			return true
		}
		if n.Name == "bridge" && s.b.ContainerViews != nil {
			list, err := s.b.ContainerViews.List(r.Context(), false)
			if err != nil {
				writeEngineError(w, err)
				return true
			}
			bits := ""
			if prefix, err := netip.ParsePrefix(s.info.BridgeCIDR); err == nil {
				bits = "/" + strconv.Itoa(prefix.Bits())
			}
			for _, c := range list {
				if c.IPAddress != "" {
					n.Containers[c.ID] = networkEndpoint{Name: c.Name, EndpointID: c.ID, IPv4Address: c.IPAddress + bits}
				}
			}
		}
		writeJSON(w, http.StatusOK, n)
	case strings.Count(rest, "/") == 1 && m == http.MethodDelete:
		if n, ok := s.network(rest[1:]); ok {
			writeError(w, http.StatusForbidden, fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name))
			return true
		}
		writeError(w, http.StatusNotFound, fmt.Errorf("network %s not found", rest[1:]))
	case strings.HasSuffix(rest, "/connect") || strings.HasSuffix(rest, "/disconnect"):
		writeError(w, http.StatusNotImplemented, fmt.Errorf("Berth's containers are on the bridge network alone; connecting them to others is not supported yet: %w", engine.ErrNotSupported))
	default:
		writeError(w, http.StatusNotFound, errors.New("page not found"))
	}
	return true
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
