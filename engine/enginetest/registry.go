package enginetest

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is a real OCI registry served in-process on a loopback port.
// Its fault switches can be flipped while it runs.
type Registry struct {
	// Host is "127.0.0.1:PORT", usable in image names.
	Host string
	// CorruptBlobs makes every blob GET answer with one byte changed,
	// like a registry or proxy that lies about content.
	CorruptBlobs atomic.Bool
	// CutBlobsAfter, when > 0, makes blob GETs send that many bytes and
	// then drop the connection, like a network cut mid-pull.
	CutBlobsAfter atomic.Int64
	// BlobGets counts blob downloads served.
	BlobGets atomic.Int64
	// login, when set, is the one account the registry lets in.
	login atomic.Pointer[Login]

	server *httptest.Server
}

// StartRegistry starts a registry that stops when the test ends.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if l := r.login.Load(); l != nil && !l.admit(w, req, r.Host) {
			return
		}
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/sha256:") {
			r.BlobGets.Add(1)
			if r.CorruptBlobs.Load() || r.CutBlobsAfter.Load() > 0 {
				r.serveFaultyBlob(inner, w, req)
				return
			}
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(r.server.Close)
	r.Host = strings.TrimPrefix(r.server.URL, "http://")
	return r
}

func (r *Registry) serveFaultyBlob(inner http.Handler, w http.ResponseWriter, req *http.Request) {
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if rec.Code != http.StatusOK {
		copyHeader(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(body)
		return
	}
	if r.CorruptBlobs.Load() && len(body) > 0 {
		body = bytes.Clone(body)
		body[len(body)/2] ^= 0xff
	}
	copyHeader(w.Header(), rec.Header())
	if cut := r.CutBlobsAfter.Load(); cut > 0 && cut < int64(len(body)) {
		w.WriteHeader(http.StatusOK)
		w.Write(body[:cut])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Drop the connection without finishing the response.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tcp, ok := conn.(*net.TCPConn); ok {
					tcp.SetLinger(0)
				}
				conn.Close()
			}
		}
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// Login is an account a registry asks for, as Docker Hub does (Bearer:
// a token from its /token endpoint for the user name and password) or as
// a registry behind htpasswd does (Basic).
type Login struct {
	User, Password string
	Bearer         bool
}

// testToken is the bearer token the registry's /token endpoint hands out.
const testToken = "berth-test-token"

// RequireLogin makes the registry refuse everyone but l from now on.
func (r *Registry) RequireLogin(l Login) { r.login.Store(&l) }

// admit answers the request itself and returns false unless it carries
// the account's credentials (or its token).
func (l *Login) admit(w http.ResponseWriter, req *http.Request, host string) bool {
	user, pass, basic := req.BasicAuth()
	goodBasic := basic && user == l.User && pass == l.Password
	if l.Bearer && req.URL.Path == "/token" {
		if !goodBasic {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"details":"incorrect username or password"}`)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"`+testToken+`","access_token":"`+testToken+`","expires_in":300}`)
		return false
	}
	if l.Bearer && req.Header.Get("Authorization") == "Bearer "+testToken || !l.Bearer && goodBasic {
		return true
	}
	if l.Bearer {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+host+`/token",service="berth-test"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Basic realm="berth-test"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	return false
}

// Push uploads img to the registry as repo:tag ("busybox:latest") and
// returns the full reference.
func (r *Registry) Push(t testing.TB, img v1.Image, repoTag string) string {
	t.Helper()
	ref, err := name.ParseReference(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref.String()
}

// PushIndex uploads a multi-platform image as repo:tag: an index of the
// images, by platform ("linux/arm64"), and returns the full reference.
func (r *Registry) PushIndex(t testing.TB, images map[string]v1.Image, repoTag string) string {
	t.Helper()
	ref, err := name.ParseReference(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	var adds []mutate.IndexAddendum
	for platform, img := range images {
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	if err := remote.WriteIndex(ref, mutate.AppendManifests(empty.Index, adds...)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref.String()
}

// Close stops the registry before the test ends, to test a registry that is down.
func (r *Registry) Close() { r.server.Close() }

// Busybox builds the busybox image, skipping the test with the reason when
// the host has no static busybox.
func Busybox(t testing.TB) v1.Image {
	t.Helper()
	img, err := BusyboxImage()
	if err != nil {
		t.Skipf("no busybox base image: %v", err)
	}
	return img
}

// ServeUnix serves h on a unix socket in a temporary directory until the
// test ends, and returns its "unix://" address, for clients of the engine API.
func ServeUnix(t testing.TB, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}
