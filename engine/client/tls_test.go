package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/store"
)

// certPair makes a certificate signed by ca (self-signed when ca is nil).
func certPair(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, server bool) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "berth-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		ca, caKey = tmpl, key
	} else if server {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// A tcp:// engine behind TLS with client certificates, as DOCKER_TLS_VERIFY
// expects: the client connects with the CLI's files, and not without them.
func TestTLSEngine(t *testing.T) {
	ca, caKey, caPEM, _ := certPair(t, nil, nil, false)
	_, _, srvPEM, srvKey := certPair(t, ca, caKey, true)
	_, _, cliPEM, cliKey := certPair(t, ca, caKey, false)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewUnstartedServer(api.NewHandler(api.Backend{Images: st, Archives: st, Events: events.NewLog(0)}, api.Info{Version: "tls-test"}))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.X509KeyPair(srvPEM, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"ca.pem": caPEM, "cert.pem": cliPEM, "key.pem": cliKey} {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	host := "tcp://" + strings.TrimPrefix(srv.URL, "https://")
	plain, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Version(context.Background()); err == nil {
		t.Fatal("a client without TLS reached a TLS engine")
	}
	c, err := plain.WithTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if list, err := c.List(context.Background()); err != nil || len(list) != 0 {
		t.Fatalf("list over TLS: %v %v", list, err)
	}
	t.Setenv("DOCKER_HOST", host)
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", dir)
	env, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Version(context.Background()); err != nil {
		t.Fatalf("FromEnv with DOCKER_TLS_VERIFY: %v", err)
	}
	if _, err := plain.WithTLS(t.TempDir()); err == nil {
		t.Fatal("a certificate directory without ca.pem was accepted")
	}
}
