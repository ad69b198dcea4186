package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// createRecorder is the one call a create request reaches; the rest of
// engine.Containers is never called here.
type createRecorder struct {
	engine.Containers
	spec engine.ContainerSpec
}

func (c *createRecorder) Create(_ context.Context, spec engine.ContainerSpec) (string, error) {
	c.spec = spec
	return "0123456789ab", nil
}

// FuzzCreateRequest sends POST /containers/create any body: the answer is
// a 201 or a 4xx/501 that says why, never a 500 (a panic is answered as
// one), and what reaches the engine is within the bounds create checks.
func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"Image":"busybox","Cmd":["true"]}`,
		`{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8080"}]},"Memory":7000000,"NanoCpus":1000000000,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}}`,
		`{"Image":"busybox","HostConfig":{"Binds":["data:/data","/tmp:/t:ro"],"Mounts":[{"Type":"volume","Source":"v1","Target":"/v"}]}}`,
		`{"Image":"busybox","HostConfig":{"CapAdd":["NET_ADMIN"],"CapDrop":["ALL"],"SecurityOpt":["no-new-privileges"],"ReadonlyRootfs":true,"PidsLimit":10,"Ulimits":[{"Name":"nofile","Soft":10,"Hard":20}]}}`,
		`{"Image":"busybox","Healthcheck":{"Test":["CMD","true"]},"HostConfig":{"NetworkMode":"none"}}`,
		`{"Image":"busybox","HostConfig":null}`,
		`{"Config":null}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := &createRecorder{}
		h := NewHandler(Backend{Containers: rec}, Info{Version: "test"})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/v1.47/containers/create", bytes.NewReader(body)))
		switch code := w.Code; {
		case code == http.StatusCreated:
		case code >= 400 && code < 500, code == http.StatusNotImplemented:
			var e struct{ Message string }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Message == "" {
				t.Fatalf("%d without a message: %s", code, w.Body)
			}
			return
		default:
			t.Fatalf("%d %s", code, w.Body)
		}
		s := rec.spec
		if s.Memory < 0 || s.NanoCPUs < 0 || s.Restart.MaxRetries < 0 {
			t.Fatalf("negative limits reached the engine: %+v", s)
		}
		if !slices.Contains([]string{"", "no", "always", "on-failure", "unless-stopped"}, s.Restart.Name) {
			t.Fatalf("restart policy %q reached the engine", s.Restart.Name)
		}
		for _, p := range s.Ports {
			if p.HostPort < 0 || p.HostPort > 65535 || !slices.Contains([]string{"tcp", "udp", "sctp"}, p.Proto) {
				t.Fatalf("port %+v reached the engine", p)
			}
		}
		for _, m := range s.Mounts {
			if m.Type == "volume" && m.Source != "" && engine.ValidVolumeName(m.Source) != nil {
				t.Fatalf("volume %q reached the engine", m.Source)
			}
		}
	})
}
