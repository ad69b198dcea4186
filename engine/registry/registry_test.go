package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// anonymous keeps tests independent of the machine's ~/.docker/config.json.
var anonymous = WithKeychain(authn.NewMultiKeychain())

func newRegistry(t *testing.T, opts ...Option) (*Registry, *store.Store) {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s, append([]Option{anonymous}, opts...)...), s
}

type recorder struct {
	mu     sync.Mutex
	events []engine.Progress
}

func (r *recorder) report(p engine.Progress) {
	r.mu.Lock()
	r.events = append(r.events, p)
	r.mu.Unlock()
}

func (r *recorder) count(s engine.ProgressStatus) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Status == s {
			n++
		}
	}
	return n
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Message != "" {
			out = append(out, e.Message)
		}
	}
	return out
}

func TestPullPushRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := enginetest.StartRegistry(t)
	img := enginetest.Busybox(t)
	src := reg.Push(t, img, "library/busybox:latest")
	r, s := newRegistry(t)

	var rec recorder
	id, err := r.Pull(ctx, src, nil, rec.report)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.ConfigName()
	if id != want.String() {
		t.Errorf("pulled ID %s, want %s", id, want)
	}
	if rec.count(engine.ProgressPullComplete) != 1 || rec.count(engine.ProgressDownloading) == 0 {
		t.Errorf("progress: %+v", rec.events)
	}
	msgs := rec.messages()
	if len(msgs) != 3 || msgs[2] != "Status: Downloaded newer image for "+reg.Host+"/library/busybox:latest" {
		t.Errorf("messages = %q", msgs)
	}
	d, err := s.Inspect(ctx, src)
	if err != nil || len(d.RepoDigests) != 1 {
		t.Fatalf("inspect after pull: %+v %v", d, err)
	}

	// Pulling again transfers nothing and says so.
	gets := reg.BlobGets.Load()
	var again recorder
	if _, err := r.Pull(ctx, src, nil, again.report); err != nil {
		t.Fatal(err)
	}
	if reg.BlobGets.Load() != gets {
		t.Errorf("second pull downloaded %d blobs", reg.BlobGets.Load()-gets)
	}
	if m := again.messages(); m[len(m)-1] != "Status: Image is up to date for "+reg.Host+"/library/busybox:latest" {
		t.Errorf("second pull said %q", m)
	}

	// Push to another registry, then once more: every layer exists.
	other := enginetest.StartRegistry(t)
	target := other.Host + "/team/bb:v1"
	if err := s.Tag(ctx, src, target); err != nil {
		t.Fatal(err)
	}
	var push recorder
	digest, err := r.Push(ctx, target, nil, push.report)
	if err != nil {
		t.Fatal(err)
	}
	if push.count(engine.ProgressPushed) != 1 {
		t.Errorf("push progress: %+v", push.events)
	}
	var repush recorder
	if _, err := r.Push(ctx, target, nil, repush.report); err != nil {
		t.Fatal(err)
	}
	if repush.count(engine.ProgressAlreadyExists) != 1 || repush.count(engine.ProgressPushed) != 0 {
		t.Errorf("re-push progress: %+v", repush.events)
	}
	tags, err := r.Tags(ctx, other.Host+"/team/bb", nil)
	if err != nil || len(tags) != 1 || tags[0] != "v1" {
		t.Errorf("Tags = %v, %v", tags, err)
	}

	// A fresh store pulls it back by digest: same image.
	r2, s2 := newRegistry(t)
	id2, err := r2.Pull(ctx, other.Host+"/team/bb@"+digest, nil, nil)
	if err != nil || id2 != id {
		t.Fatalf("pull by digest: %s %v", id2, err)
	}
	if _, err := s2.Inspect(ctx, other.Host+"/team/bb@"+digest); err != nil {
		t.Errorf("inspect by digest: %v", err)
	}
}

func TestPullPicksHostPlatformFromIndex(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	idx := multiPlatformIndex(t)
	ref, _ := name.ParseReference(reg.Host + "/multi:latest")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	r, s := newRegistry(t)
	id, err := r.Pull(context.Background(), ref.String(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := s.Inspect(context.Background(), id)
	if d.Architecture != runtime.GOARCH || d.OS != "linux" {
		t.Errorf("pulled %s/%s, want linux/%s", d.OS, d.Architecture, runtime.GOARCH)
	}
	r2, _ := newRegistry(t, WithPlatform(v1.Platform{OS: "linux", Architecture: "s390x"}))
	if _, err := r2.Pull(context.Background(), ref.String(), nil, nil); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("pull for a platform the index lacks: %v, want ErrNotFound", err)
	}
}

func multiPlatformIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(1024, 1)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		cfg = cfg.DeepCopy()
		cfg.OS, cfg.Architecture = "linux", arch
		img, _ = mutate.ConfigFile(img, cfg)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx, err := random.Index(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.AppendManifests(idx, adds...)
}

func TestPullErrors(t *testing.T) {
	ctx := context.Background()
	reg := enginetest.StartRegistry(t)
	img, _ := random.Image(256<<10, 2)
	reg.Push(t, img, "app:v1")
	r, s := newRegistry(t)
	tests := []struct {
		ref  string
		want error
	}{
		{"Not A Name", engine.ErrInvalidReference},
		{reg.Host + "/app:nope", engine.ErrNotFound},
		{reg.Host + "/missing:v1", engine.ErrNotFound},
		{"127.0.0.1:1/app:v1", engine.ErrUnavailable},
	}
	for _, tt := range tests {
		if _, err := r.Pull(ctx, tt.ref, nil, nil); !errors.Is(err, tt.want) {
			t.Errorf("Pull(%q) = %v, want %v", tt.ref, err, tt.want)
		}
	}
	reg.Close()
	if _, err := r.Pull(ctx, reg.Host+"/app:v1", nil, nil); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("pull from a stopped registry: %v, want ErrUnavailable", err)
	}
	assertNothingStored(t, s)
}

func assertNothingStored(t *testing.T, s *store.Store) {
	t.Helper()
	if list, _ := s.List(context.Background()); len(list) != 0 {
		t.Errorf("store lists %d images", len(list))
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if len(entries) != 0 {
		t.Errorf("tmp/ keeps %d entries", len(entries))
	}
}

func TestPullRejectsLyingRegistry(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	img, _ := random.Image(256<<10, 2)
	ref := reg.Push(t, img, "app:v1")
	reg.CorruptBlobs.Store(true)
	r, s := newRegistry(t)
	if _, err := r.Pull(context.Background(), ref, nil, nil); !errors.Is(err, engine.ErrDigestMismatch) {
		t.Fatalf("pull from lying registry: %v, want ErrDigestMismatch", err)
	}
	assertNothingStored(t, s)
	if blobs, _ := os.ReadDir(filepath.Join(s.Root(), "blobs/sha256")); len(blobs) != 0 {
		t.Errorf("kept %d blobs from a lying registry", len(blobs))
	}
}

func TestPullCutOffResumes(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	img, _ := random.Image(512<<10, 3)
	ref := reg.Push(t, img, "app:v1")
	reg.CutBlobsAfter.Store(100 << 10)
	r, s := newRegistry(t)
	if _, err := r.Pull(context.Background(), ref, nil, nil); err == nil {
		t.Fatal("pull over a cut connection succeeded")
	}
	assertNothingStored(t, s)
	reg.CutBlobsAfter.Store(0)
	id, err := r.Pull(context.Background(), ref, nil, nil)
	if err != nil {
		t.Fatalf("pull after the network came back: %v", err)
	}
	if d, err := s.Inspect(context.Background(), ref); err != nil || d.ID != id || len(d.Layers) != 3 {
		t.Errorf("after resume: %+v %v", d, err)
	}
}

func TestPullWithCredentials(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	img, _ := random.Image(1024, 1)
	reg.Push(t, img, "private:v1")
	// A proxy in front of the registry that wants basic auth.
	guarded := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="berth-test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		req.URL.Scheme, req.URL.Host = "http", reg.Host
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}))
	defer guarded.Close()
	ref := guarded.Listener.Addr().String() + "/private:v1"
	r, _ := newRegistry(t)
	if _, err := r.Pull(context.Background(), ref, nil, nil); !errors.Is(err, engine.ErrUnauthorized) {
		t.Errorf("pull without credentials: %v, want ErrUnauthorized", err)
	}
	if _, err := r.Pull(context.Background(), ref, &engine.AuthConfig{Username: "alice", Password: "s3cret"}, nil); err != nil {
		t.Errorf("pull with credentials: %v", err)
	}
}

func TestSearch(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	img, _ := random.Image(1024, 1)
	for _, repo := range []string{"web/frontend:v1", "web/backend:v1", "db:v1"} {
		reg.Push(t, img, repo)
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("q") != "nginx" || req.URL.Query().Get("n") != "2" {
			http.Error(w, "bad query "+req.URL.RawQuery, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"num_results": 2, "results": []map[string]any{
			{"name": "nginx", "description": "Official build of Nginx.", "star_count": 20000, "is_official": true},
			{"name": "bitnami/nginx", "star_count": 200},
		}})
	}))
	defer hub.Close()
	r, _ := newRegistry(t, WithHubSearchURL(hub.URL))

	got, err := r.Search(context.Background(), reg.Host+"/WEB", 10, nil)
	if err != nil || len(got) != 2 || got[0].Name != reg.Host+"/web/backend" || got[1].Name != reg.Host+"/web/frontend" {
		t.Errorf("catalog search = %+v, %v", got, err)
	}
	got, err = r.Search(context.Background(), "nginx", 2, nil)
	if err != nil || len(got) != 2 || !got[0].Official || got[0].Stars != 20000 || got[1].Name != "bitnami/nginx" {
		t.Errorf("hub search = %+v, %v", got, err)
	}
	if _, err := r.Search(context.Background(), "", 2, nil); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("empty search: %v", err)
	}
}

func TestSplitSearchTerm(t *testing.T) {
	for term, want := range map[string][2]string{
		"nginx":                {"docker.io", "nginx"},
		"bitnami/nginx":        {"docker.io", "bitnami/nginx"},
		"localhost:5000/web":   {"localhost:5000", "web"},
		"localhost/web":        {"localhost", "web"},
		"ghcr.io/owner":        {"ghcr.io", "owner"},
		"docker.io/nginx":      {"docker.io", "nginx"},
		"index.docker.io/node": {"docker.io", "node"},
		"127.0.0.1:5102":       {"127.0.0.1:5102", ""},
		"localhost":            {"localhost", ""},
		"127.0.0.1:5102/":      {"127.0.0.1:5102", ""},
	} {
		if h, q := splitSearchTerm(term); h != want[0] || q != want[1] {
			t.Errorf("splitSearchTerm(%q) = %q, %q", term, h, q)
		}
	}
}

// A local file system error during a pull is said as such, not as a
// registry that cannot be reached (a syscall.Errno is also a net.Error).
func TestLocalErrorsAreNotNetworkErrors(t *testing.T) {
	for _, err := range []error{
		&fs.PathError{Op: "mkdir", Path: "/var/lib/berth/images/tmp/x", Err: syscall.ENOSPC},
		&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EEXIST},
		fmt.Errorf("unpack: %w", syscall.ENAMETOOLONG),
	} {
		if errors.Is(classify(err), engine.ErrUnavailable) {
			t.Errorf("%v is reported as the registry being unreachable", err)
		}
	}
	if !errors.Is(classify(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), engine.ErrUnavailable) {
		t.Error("a refused connection is not reported as the registry being unreachable")
	}
}
