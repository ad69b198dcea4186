package app

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
)

// testdata/dockerconfig was written by the docker CLI 28 (docker context
// create big|nas|secure, docker context use nas): Berth reads its store.
func TestContextsReadTheDockerCLIsStore(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "testdata/dockerconfig")
	t.Setenv("DOCKER_HOST", "")
	list, err := Contexts()
	if err != nil {
		t.Fatal(err)
	}
	secureTLS := filepath.Join(contextDir("tls", "secure"), "docker")
	want := []EngineContext{
		{Name: "berth", Description: "Berth's own engine"},
		{Name: "default", Description: "Docker's default engine ($DOCKER_HOST, else its socket)", Host: dockerDefaultHost()},
		{Name: "big", Description: "the build server", Host: "ssh://me@big.example:2222"},
		{Name: "nas", Host: "tcp://192.168.1.20:2375", DockerCurrent: true},
		{Name: "secure", Host: "tcp://engine.example:2376", TLSDir: secureTLS},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("Contexts:\n got %+v\nwant %+v", list, want)
	}
	if _, err := FindContext("nope"); err == nil || Explain(err) != `there is no engine context "nope" (there are: berth, default, big, nas, secure; docker context create adds one)` {
		t.Errorf("FindContext(nope) = %v", err)
	}
}

// A context whose file is broken is named in the error; the others are
// still listed.
func TestBrokenContextIsNamedAndTheRestListed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	if err := WriteDockerContext("remote", "", "ssh://me@remote"); err != nil {
		t.Fatal(err)
	}
	broken := contextDir("meta", "broken")
	os.MkdirAll(broken, 0o755)
	os.WriteFile(filepath.Join(broken, "meta.json"), []byte(`{"Name":`), 0o644)
	list, err := Contexts()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(broken, "meta.json")) {
		t.Errorf("Contexts error = %v, want it to name %s", err, broken)
	}
	if len(list) != 3 || list[2].Name != "remote" || list[2].Host != "ssh://me@remote" || !list[1].DockerCurrent {
		t.Errorf("Contexts = %+v, want berth, default (current), remote", list)
	}
	if err := WriteDockerContext("bad", "", "ftp://x"); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("WriteDockerContext with an ftp:// address: %v", err)
	}
}

// Which engine wins, first that applies: the settings' address, the
// settings' context, DOCKER_HOST, DOCKER_CONTEXT, Berth's own.
func TestEngineChoiceOrder(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "testdata/dockerconfig")
	t.Setenv("BERTH_HOST", "unix:///tmp/berth-test.sock")
	own := target{addr: "unix:///tmp/berth-test.sock", source: "berth", own: true, context: BerthContext}
	for _, tc := range []struct {
		name                string
		s                   Settings
		dockerHost, context string
		want                target
		wantErr             bool
	}{
		{name: "nothing chosen", want: own},
		{name: "settings address", s: Settings{Engine: "tcp://a:2375"}, dockerHost: "tcp://b:2375", want: target{addr: "tcp://a:2375", source: "settings"}},
		{name: "settings context over env", s: Settings{Context: "big"}, dockerHost: "tcp://b:2375", want: target{addr: "ssh://me@big.example:2222", source: "context big", context: "big"}},
		{name: "Berth's own chosen over DOCKER_HOST", s: Settings{Context: "berth"}, dockerHost: "tcp://b:2375", want: own},
		{name: "DOCKER_HOST over DOCKER_CONTEXT", dockerHost: "tcp://b:2375", context: "big", want: target{addr: "tcp://b:2375", source: "DOCKER_HOST"}},
		{name: "DOCKER_CONTEXT", context: "secure", want: target{addr: "tcp://engine.example:2376", source: "context secure", context: "secure", tls: &tlsFrom{filepath.Join(contextDir("tls", "secure"), "docker")}}},
		{name: "unknown context", s: Settings{Context: "gone"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tc.dockerHost)
			t.Setenv("DOCKER_CONTEXT", tc.context)
			got, err := tc.s.target()
			if (err != nil) != tc.wantErr || !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("target = %+v, %v; want %+v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// An engine behind SSH publishes ports on its host; one on this computer
// (or its loopback) on localhost.
func TestRemoteHost(t *testing.T) {
	for addr, want := range map[string]string{
		"ssh://me@big.example:2222": "big.example",
		"tcp://192.168.1.20:2375":   "192.168.1.20",
		"tcp://127.0.0.1:2375":      "",
		"tcp://localhost:2375":      "",
		client.DefaultHost:          "",
	} {
		if got := remoteHost(addr); got != want {
			t.Errorf("remoteHost(%q) = %q, want %q", addr, got, want)
		}
	}
}
