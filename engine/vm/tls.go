package vm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// The engine in the VM serves TLS and accepts only a client certificate
// signed by a CA made for this VM on its first start; the CA's and the
// client's files stay in the VM's directory (mode 0600), which only the
// helper's user can read. Another local user can reach the forwarded
// port but not talk to the engine.

func (q *QEMU) tlsDir() string { return filepath.Join(q.cfg.Dir, "tls") }

// ensureKeys makes the VM's CA, server and client certificates once.
func (q *QEMU) ensureKeys() error {
	dir := q.tlsDir()
	if _, err := os.Stat(filepath.Join(dir, "key.pem")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "Berth VM CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ = x509.ParseCertificate(caDER)
	issue := func(name string, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, []byte, error) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().AddDate(10, 0, 0), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
	}
	srvCert, srvKey, err := issue("berthd", x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"), net.ParseIP("10.0.2.15"))
	if err != nil {
		return err
	}
	cliCert, cliKey, err := issue("berth helper", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for name, data := range map[string][]byte{"ca.pem": caPEM, "server-cert.pem": srvCert, "server-key.pem": srvKey, "cert.pem": cliCert, "key.pem": cliKey} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// initrd is the image's initramfs with a second archive appended that
// holds the engine's TLS files (Linux unpacks concatenated archives).
func (q *QEMU) initrd() (string, error) {
	base, err := os.ReadFile(q.cfg.Initrd)
	if err != nil {
		return "", err
	}
	files := map[string]CpioFile{}
	for src, dst := range map[string]string{"ca.pem": "ca.pem", "server-cert.pem": "cert.pem", "server-key.pem": "key.pem"} {
		data, err := os.ReadFile(filepath.Join(q.tlsDir(), src))
		if err != nil {
			return "", err
		}
		files["etc/berth/tls/"+dst] = CpioFile{Data: data, Mode: 0o600}
	}
	var buf bytes.Buffer
	buf.Write(base)
	for buf.Len()%4 != 0 {
		buf.WriteByte(0)
	}
	zw := gzip.NewWriter(&buf)
	if err := WriteCpio(zw, files); err != nil {
		return "", err
	}
	zw.Close()
	out := filepath.Join(q.cfg.Dir, "initrd.img")
	return out, os.WriteFile(out, buf.Bytes(), 0o600)
}

// clientTLS is the helper's side of the engine's TLS.
func (q *QEMU) clientTLS() (*tls.Config, error) {
	ca, err := os.ReadFile(filepath.Join(q.tlsDir(), "ca.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(filepath.Join(q.tlsDir(), "cert.pem"), filepath.Join(q.tlsDir(), "key.pem"))
	if err != nil {
		return nil, fmt.Errorf("the VM's client certificate: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}, nil
}
