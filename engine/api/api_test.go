package api

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/registry"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
)

type fixture struct {
	srv   *httptest.Server
	store *store.Store
	reg   *enginetest.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := events.NewLog(0)
	st, err := store.Open(t.TempDir(), store.WithEvents(log.Publish))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := registry.New(st, registry.WithKeychain(authn.NewMultiKeychain()), registry.WithEvents(log.Publish))
	srv := httptest.NewServer(NewHandler(Backend{Images: st, Registry: r, Archives: st, Events: log}, Info{Version: "test", DataRoot: st.Root()}))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: st, reg: enginetest.StartRegistry(t)}
}

func (f *fixture) do(t *testing.T, method, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestPingAndVersionPrefix(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/_ping", "/v1.41/_ping", "/v1.51/_ping"} {
		resp, body := f.do(t, http.MethodGet, p, nil)
		if resp.StatusCode != 200 || string(body) != "OK" || resp.Header.Get("Api-Version") != APIVersion {
			t.Errorf("GET %s = %d %q, Api-Version %q", p, resp.StatusCode, body, resp.Header.Get("Api-Version"))
		}
	}
	resp, body := f.do(t, http.MethodGet, "/v1.51/containers/x/json", nil)
	var msg map[string]string
	if resp.StatusCode != 404 || json.Unmarshal(body, &msg) != nil || msg["message"] == "" {
		t.Errorf("unknown route = %d %s, want a 404 with a JSON message", resp.StatusCode, body)
	}
}

func TestErrorStatusCodes(t *testing.T) {
	f := newFixture(t)
	id, err := f.store.Put(context.Background(), mustRandom(t), store.PutOptions{Names: []string{"a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	f.store.Tag(context.Background(), id, "b:1")
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/images/nope/json", 404},
		{"GET", "/images/a:1/json", 200},
		{"GET", "/images/" + url.PathEscape("a:1") + "/history", 200},
		{"POST", "/images/a:1/tag?repo=Bad%20Name", 400},
		{"POST", "/images/a:1/tag?repo=c&tag=2", 201},
		{"DELETE", "/images/" + id, 409}, // three names, two repositories... and no force
		{"DELETE", "/images/" + id + "?force=1", 200},
		{"GET", "/images/json?filters=" + url.QueryEscape(`{"dangling":{"true":true}}`), 200},
		{"GET", "/images/json?filters=notjson", 400},
		{"GET", "/images/json?filters=" + url.QueryEscape(`{"dangling":["maybe"]}`), 400},
		{"POST", "/images/prune?filters=" + url.QueryEscape(`{"dangling":["maybe"]}`), 400},
		{"GET", "/events?since=abc", 400},
		{"GET", "/v0.1/version", 400},
		{"GET", "/v99.99/version", 400},
		{"GET", "/v1.24/version", 200},
		{"GET", "/v1.51/version", 200},
	}
	for _, tt := range tests {
		if resp, body := f.do(t, tt.method, tt.path, nil); resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.want)
		}
	}
}

func mustRandom(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestPullStreamAndListFilters(t *testing.T) {
	f := newFixture(t)
	img, _ := random.Image(64<<10, 2)
	ref := f.reg.Push(t, img, "app:v1")
	repo := strings.TrimSuffix(ref, ":v1")
	resp, body := f.do(t, http.MethodPost, "/images/create?fromImage="+url.QueryEscape(repo)+"&tag=v1", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("pull = %d %s", resp.StatusCode, body)
	}
	var statuses []string
	dec := json.NewDecoder(bytes.NewReader(body))
	for dec.More() {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.Error != nil {
			t.Fatalf("stream error: %s", m.Error.Message)
		}
		statuses = append(statuses, m.Status)
	}
	joined := strings.Join(statuses, "|")
	for _, want := range []string{"Pulling from app", "Pulling fs layer", "Download complete", "Pull complete", "Status: Downloaded newer image for " + ref} {
		if !strings.Contains(joined, want) {
			t.Errorf("pull stream lacks %q: %s", want, joined)
		}
	}
	// An unknown tag fails inside the stream, with the registry's words.
	_, body = f.do(t, http.MethodPost, "/images/create?fromImage="+url.QueryEscape(repo)+"&tag=nope", nil)
	if !bytes.Contains(body, []byte(`"errorDetail":{"message":"pull `)) || !bytes.Contains(body, []byte("not found")) {
		t.Errorf("pull of unknown tag: %s", body)
	}
	// A malformed name fails before the stream starts.
	if resp, _ := f.do(t, http.MethodPost, "/images/create?fromImage=Bad%20Name&tag=1", nil); resp.StatusCode != 400 {
		t.Errorf("pull of malformed name = %d, want 400", resp.StatusCode)
	}

	for filter, want := range map[string]int{
		`{"reference":["` + repo + `"]}`:  1,
		`{"reference":["*/nothing*"]}`:    0,
		`{"dangling":["true"]}`:           0,
		`{"dangling":{"false":true}}`:     1,
		`{"label":["maintainer=nobody"]}`: 0,
	} {
		_, body := f.do(t, http.MethodGet, "/images/json?filters="+url.QueryEscape(filter), nil)
		var list []image.Summary
		if err := json.Unmarshal(body, &list); err != nil || len(list) != want {
			t.Errorf("images/json %s = %d images (%s), want %d", filter, len(list), body, want)
		}
	}
}

func TestPushAllTagsUsesCredentialsHeader(t *testing.T) {
	f := newFixture(t)
	img, _ := random.Image(1024, 1)
	ref := f.reg.Push(t, img, "src:v1")
	if _, body := f.do(t, http.MethodPost, "/images/create?fromImage="+url.QueryEscape(ref), nil); bytes.Contains(body, []byte("errorDetail")) {
		t.Fatalf("pull: %s", body)
	}
	for _, tag := range []string{"one", "two"} {
		if err := f.store.Tag(context.Background(), ref, f.reg.Host+"/dst:"+tag); err != nil {
			t.Fatal(err)
		}
	}
	auth := base64.URLEncoding.EncodeToString([]byte(`{"username":"u","password":"p"}`))
	_, body := f.do(t, http.MethodPost, "/images/"+f.reg.Host+"/dst/push", http.Header{"X-Registry-Auth": {auth}})
	if bytes.Contains(body, []byte("errorDetail")) || bytes.Count(body, []byte(`"aux"`)) != 2 {
		t.Fatalf("push of all tags: %s", body)
	}
	if got := authFrom(&http.Request{Header: http.Header{"X-Registry-Auth": {auth}}}); got == nil || got.Username != "u" || got.Password != "p" {
		t.Errorf("authFrom = %+v", got)
	}
	if got := authFrom(&http.Request{Header: http.Header{"X-Registry-Auth": {"e30="}}}); got != nil {
		t.Errorf("authFrom({}) = %+v, want nil (use the keychain)", got)
	}
}

func TestTimestampParam(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "10": 10e9, "10.5": 10e9 + 5e8, "1700000000.000000001": 1700000000e9 + 1} {
		if got, err := timestampParam(in); err != nil || got != want {
			t.Errorf("timestampParam(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := timestampParam("yesterday"); err == nil {
		t.Error("timestampParam accepted garbage")
	}
}

// An events stream answers at once, before any event: docker stats waits
// for that answer before it lists the containers.
func TestEventsAnswerBeforeAnyEvent(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/v1.50/events?filters="+url.QueryEscape(`{"type":{"container":true}}`), nil)
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the events stream sent no headers while no event happened")
	}
}

// panickingBuilder is a builder with a bug.
type panickingBuilder struct{}

func (panickingBuilder) Build(context.Context, engine.BuildOptions, func(engine.BuildEvent)) (engine.BuildResult, error) {
	panic("a bug in the builder")
}
func (panickingBuilder) PruneCache(context.Context, bool) (engine.BuildCacheReport, error) {
	panic("unused")
}

// A handler that panics (a bug) answers 500 with the reason, and the
// daemon serves the next request.
func TestHandlerPanicIsAnswered(t *testing.T) {
	srv := httptest.NewServer(NewHandler(Backend{Builder: panickingBuilder{}, BuildContextDir: func() (string, error) { return t.TempDir(), nil }}, Info{Version: "test"}))
	defer srv.Close()
	var ctx bytes.Buffer
	tw := tar.NewWriter(&ctx)
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: 12})
	tw.Write([]byte("FROM scratch"))
	tw.Close()
	resp, err := http.Post(srv.URL+"/build", "application/x-tar", &ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The build stream had begun (200), so the error is its last message.
	if !strings.Contains(string(body), `"errorDetail":{"message":"berthd failed on this request (a bug, please report it): a bug in the builder"}`) {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if resp, err := http.Get(srv.URL + "/_ping"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after the panic: %v %v", resp, err)
	}
}

func TestRepoTag(t *testing.T) {
	for _, tc := range []struct {
		repo, tag string
		want      []string
	}{
		{"", "", nil},
		{"app", "", []string{"app:latest"}},
		{"app", "v1", []string{"app:v1"}},
		{"app:v1", "", []string{"app:v1"}},
		{"localhost:5000/app", "", []string{"localhost:5000/app:latest"}},
		{"localhost:5000/app:v2", "", []string{"localhost:5000/app:v2"}},
	} {
		if got := repoTag(tc.repo, tc.tag); !slices.Equal(got, tc.want) {
			t.Errorf("repoTag(%q, %q) = %q, want %q", tc.repo, tc.tag, got, tc.want)
		}
	}
}
