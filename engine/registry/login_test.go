package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// docker login through the engine: Docker Hub's token flow and a
// registry's basic auth, a wrong password, a registry that is down; then
// the account pulls what anonymous cannot.
func TestLogin(t *testing.T) {
	for _, bearer := range []bool{true, false} {
		reg := enginetest.StartRegistry(t)
		reg.Push(t, enginetest.Busybox(t), "private/busybox:latest")
		reg.RequireLogin(enginetest.Login{User: "me", Password: "s3cret", Bearer: bearer})
		r, _ := newRegistry(t)
		ctx := context.Background()
		for _, tc := range []struct {
			auth *engine.AuthConfig
			want error
		}{
			{&engine.AuthConfig{Username: "me", Password: "s3cret", ServerAddress: reg.Host}, nil},
			{&engine.AuthConfig{Username: "me", Password: "s3cret", ServerAddress: "http://" + reg.Host + "/v2/"}, nil},
			{&engine.AuthConfig{Username: "me", Password: "wrong", ServerAddress: reg.Host}, engine.ErrUnauthorized},
			{&engine.AuthConfig{Username: "", Password: "", ServerAddress: reg.Host}, engine.ErrInvalidArgument},
		} {
			err := r.Login(ctx, tc.auth)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("bearer=%v login %s/%s at %s: %v, want %v", bearer, tc.auth.Username, tc.auth.Password, tc.auth.ServerAddress, err, tc.want)
			}
		}
		ref := reg.Host + "/private/busybox:latest"
		if _, err := r.Pull(ctx, ref, nil, nil); !errors.Is(err, engine.ErrUnauthorized) {
			t.Errorf("bearer=%v anonymous pull of a private image: %v", bearer, err)
		}
		if _, err := r.Pull(ctx, ref, &engine.AuthConfig{Username: "me", Password: "s3cret", ServerAddress: reg.Host}, nil); err != nil {
			t.Errorf("bearer=%v pull after login: %v", bearer, err)
		}
		reg.Close()
		if err := r.Login(ctx, &engine.AuthConfig{Username: "me", Password: "s3cret", ServerAddress: reg.Host}); !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach the registry") {
			t.Errorf("bearer=%v login to a registry that is down: %v", bearer, err)
		}
	}
}

func TestLoginHost(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "index.docker.io",
		"https://index.docker.io/v1/": "index.docker.io",
		"docker.io":                   "index.docker.io",
		"registry-1.docker.io":        "index.docker.io",
		"ghcr.io":                     "ghcr.io",
		"127.0.0.1:5000":              "127.0.0.1:5000",
		"http://127.0.0.1:5000/v2/":   "127.0.0.1:5000",
		"quay.io/team":                "quay.io",
	} {
		if got := loginHost(in); got != want {
			t.Errorf("loginHost(%q) = %q, want %q", in, got, want)
		}
	}
}
