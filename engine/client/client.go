package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// DefaultHost is berthd's default socket.
const DefaultHost = "unix:///run/berth/berth.sock"

// Client talks to one engine.
type Client struct {
	http *http.Client
	base string // scheme://host for URLs; the transport dials the real address
	host string
	ssh  *SSHTarget // the engine is behind SSH
}

// FromEnv connects to $DOCKER_HOST when set, else to berthd's default
// socket; DOCKER_TLS_VERIFY and DOCKER_CERT_PATH turn on TLS, as the
// docker CLI does.
func FromEnv() (*Client, error) {
	h := os.Getenv("DOCKER_HOST")
	if h == "" {
		return New(BerthHost())
	}
	c, err := New(h)
	if err != nil || os.Getenv("DOCKER_TLS_VERIFY") == "" {
		return c, err
	}
	return c.WithTLS(os.Getenv("DOCKER_CERT_PATH"))
}

// New connects to host: "unix:///path", "npipe:////./pipe/name" (Windows),
// "tcp://host:port" or "ssh://user@host[:port][/socket]".
func New(host string) (*Client, error) {
	proto, addr, ok := strings.Cut(host, "://")
	if !ok || addr == "" {
		return nil, fmt.Errorf("engine address %q: want unix:///path or tcp://host:port: %w", host, engine.ErrInvalidArgument)
	}
	var dial func(ctx context.Context, _, _ string) (net.Conn, error)
	base := "http://engine"
	switch proto {
	case "unix":
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", addr)
		}
	case "npipe": // Windows: npipe:////./pipe/berth_engine
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) { return dialPipe(ctx, addr) }
	case "tcp", "http":
		base = "http://" + addr
	case "ssh":
		t, err := ParseSSH(host)
		if err != nil {
			return nil, err
		}
		// Each connection is an ssh login: keep more of them for reuse.
		tr := &http.Transport{MaxIdleConnsPerHost: 8}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return t.dialFor(ctx, tr.CloseIdleConnections)
		}
		return &Client{http: &http.Client{Transport: tr}, base: base, host: host, ssh: &t}, nil
	default:
		return nil, fmt.Errorf("engine address %q: unsupported scheme %q: %w", host, proto, engine.ErrInvalidArgument)
	}
	tr := &http.Transport{DialContext: dial}
	return &Client{http: &http.Client{Transport: tr}, base: base, host: host}, nil
}

// SSH is the SSH target the engine is reached through, if it is.
func (c *Client) SSH() (SSHTarget, bool) {
	if c.ssh == nil {
		return SSHTarget{}, false
	}
	return *c.ssh, true
}

// CloseIdleConnections ends the connections kept for reuse: for an engine
// behind SSH, their ssh processes.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// do sends a request and turns a non-2xx answer into an error carrying the
// engine's message and the sentinel its status code means.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	return c.send(req)
}

// send sends a request made elsewhere, with do's error handling.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		if sshErr := (*SSHError)(nil); errors.As(err, &sshErr) {
			return nil, sshErr // says what to do in its own words
		}
		return nil, fmt.Errorf("cannot reach the engine at %s (is it running?): %w: %w", c.host, engine.ErrEngineUnreachable, err)
	}
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusSwitchingProtocols { // 101: a hijacked stream
		return resp, nil
	}
	defer resp.Body.Close()
	var msg struct {
		Message string `json:"message"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &msg) != nil || msg.Message == "" {
		msg.Message = strings.TrimSpace(string(data))
	}
	return nil, &apiError{status: resp.StatusCode, msg: msg.Message}
}

// streamError is an error that arrives inside a progress stream, where
// there is no status code: the sentinel is guessed from dockerd's words.
func streamError(msg string) error {
	status := http.StatusInternalServerError
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "not found") || strings.Contains(low, "manifest unknown") || strings.Contains(low, "does not exist"):
		status = http.StatusNotFound
	case strings.Contains(low, "unauthorized") || strings.Contains(low, "authentication required") || strings.Contains(low, "denied"):
		status = http.StatusUnauthorized
	case strings.Contains(low, "invalid reference") || strings.Contains(low, "invalid tag"):
		status = http.StatusBadRequest
	}
	return &apiError{status: status, msg: msg}
}

// apiError is an engine's error answer.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) Is(target error) bool {
	switch e.status {
	case http.StatusNotFound:
		return target == engine.ErrNotFound
	case http.StatusBadRequest:
		return target == engine.ErrInvalidArgument
	case http.StatusConflict:
		return target == engine.ErrConflict
	case http.StatusUnauthorized, http.StatusForbidden:
		return target == engine.ErrUnauthorized
	case http.StatusNotImplemented:
		return target == engine.ErrNotSupported
	case http.StatusServiceUnavailable, http.StatusBadGateway:
		return target == engine.ErrUnavailable
	}
	return false
}

// Save writes the named images as one `docker save` tarball to w.
func (c *Client) Save(ctx context.Context, names []string, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, "/images/get", url.Values{"names": names}, nil)
	if err != nil {
		return fmt.Errorf("save %s: %w", strings.Join(names, " "), err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("save %s: %w", strings.Join(names, " "), err)
	}
	return nil
}

// Load sends a `docker save` tarball to the engine and returns what it loaded.
func (c *Client) Load(ctx context.Context, r io.Reader, progress engine.ProgressFunc) ([]string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/images/load", nil, r)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer resp.Body.Close()
	var loaded []string
	dec := json.NewDecoder(resp.Body)
	for {
		var m struct {
			Stream      string `json:"stream"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return loaded, nil
		} else if err != nil {
			return loaded, fmt.Errorf("load: %w", err)
		}
		if m.ErrorDetail != nil {
			return loaded, fmt.Errorf("load: %s", m.ErrorDetail.Message)
		}
		for _, prefix := range []string{"Loaded image: ", "Loaded image ID: "} {
			if name, ok := strings.CutPrefix(strings.TrimSpace(m.Stream), prefix); ok {
				loaded = append(loaded, name)
			}
		}
	}
}

// Interface guards.
var _ engine.Archives = (*Client)(nil)
