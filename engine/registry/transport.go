package registry

import (
	"net"
	"net/http"
	"strings"
)

// schemePolicy upgrades plain-HTTP requests to HTTPS unless the registry
// is on loopback or was listed as insecure — docker's rule. Without it,
// go-containerregistry would also speak plain HTTP to any private-range
// address (10.x, 192.168.x, …), so a registry on the local network would
// be reached unencrypted and its answers could be tampered with.
type schemePolicy struct {
	next     http.RoundTripper
	insecure map[string]bool
}

func (p schemePolicy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !p.plainAllowed(req.URL.Host) {
		req = req.Clone(req.Context())
		req.URL.Scheme = "https"
	}
	return p.next.RoundTrip(req)
}

func (p schemePolicy) plainAllowed(hostport string) bool {
	if p.insecure[hostport] {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
