package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/engine"
)

// BerthHost is where Berth's own engine listens: $BERTH_HOST when set,
// else berthd's socket for root, else one in the user's runtime directory.
func BerthHost() string {
	if h := os.Getenv("BERTH_HOST"); h != "" {
		return h
	}
	if os.Geteuid() == 0 {
		return DefaultHost
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return "unix://" + filepath.Join(dir, "berth", "berth.sock")
	}
	return "unix://" + filepath.Join(os.TempDir(), fmt.Sprintf("berth-%d", os.Getuid()), "berth.sock")
}

// PIDFile is the file, in berthd's run directory (its default socket's
// folder), that holds the PID stopping the engine: the one the app and
// `berth engine stop` signal.
const PIDFile = "berthd.pid"

// Host is the address the client talks to.
func (c *Client) Host() string { return c.host }

// ServerVersion is what /version says about the engine.
type ServerVersion struct {
	Product    string // "Berth", "Docker Engine - Community", "Podman Engine"
	Version    string
	APIVersion string
	OS, Arch   string
}

// Version asks the engine what it is; it is also the app's ping.
func (c *Client) Version(ctx context.Context) (ServerVersion, error) {
	var v struct {
		Platform   struct{ Name string }
		Version    string
		APIVersion string `json:"ApiVersion"`
		Os, Arch   string
		Components []struct{ Name, Version string }
	}
	if err := c.getJSON(ctx, "/version", nil, &v); err != nil {
		return ServerVersion{}, err
	}
	return ServerVersion{Product: v.Platform.Name, Version: v.Version, APIVersion: v.APIVersion, OS: v.Os, Arch: v.Arch}, nil
}

// WithTLS makes the client speak TLS to a tcp:// engine, with the CLI's
// files in certDir (ca.pem, cert.pem, key.pem), as DOCKER_TLS_VERIFY does.
func (c *Client) WithTLS(certDir string) (*Client, error) {
	if certDir == "" {
		home, _ := os.UserHomeDir()
		certDir = filepath.Join(home, ".docker")
	}
	ca, err := os.ReadFile(filepath.Join(certDir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("TLS: %w: %w", err, engine.ErrInvalidArgument)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("TLS: %s holds no certificate: %w", filepath.Join(certDir, "ca.pem"), engine.ErrInvalidArgument)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem"))
	if err != nil {
		return nil, fmt.Errorf("TLS: %w: %w", err, engine.ErrInvalidArgument)
	}
	tr := c.http.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	out := *c
	out.http = &http.Client{Transport: tr}
	if len(out.base) > 7 && out.base[:7] == "http://" {
		out.base = "https://" + out.base[7:]
	}
	return &out, nil
}
