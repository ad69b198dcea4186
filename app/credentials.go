package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/berth-dev/berth/engine/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Credentials live where docker login keeps them, so the docker CLI and
// Berth share one login: $DOCKER_CONFIG/config.json (default
// ~/.docker/config.json), in a credential helper when the file names one.

// dockerConfigPath is the docker CLI's config file.
func dockerConfigPath() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker", "config.json")
}

// credentialsFor are the stored credentials for ref's registry, or nil:
// the app sends them with a pull or push as the docker CLI does, so an
// engine that keeps none of its own (dockerd, podman) gets them too.
func credentialsFor(ref string) *engine.AuthConfig {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil
	}
	return credentialsForRegistry(r.Context().Registry)
}

func credentialsForRegistry(reg name.Registry) *engine.AuthConfig {
	a, err := authn.DefaultKeychain.Resolve(reg)
	if err != nil || a == authn.Anonymous {
		return nil
	}
	cfg, err := a.Authorization()
	if err != nil || *cfg == (authn.AuthConfig{}) {
		return nil
	}
	return &engine.AuthConfig{Username: cfg.Username, Password: cfg.Password, Auth: cfg.Auth, IdentityToken: cfg.IdentityToken, RegistryToken: cfg.RegistryToken, ServerAddress: reg.RegistryStr()}
}

// RegistryOf is the registry host an image name is pulled from or
// pushed to, as the Log in dialog names it: empty for Docker Hub.
func RegistryOf(ref string) string {
	r, err := reference.Parse(ref)
	if err != nil || r.Context().RegistryStr() == name.DefaultRegistry {
		return ""
	}
	return r.Context().RegistryStr()
}

// Login checks the account with the engine (which asks the registry) and
// keeps it where docker login does. server is a registry's host; empty
// is Docker Hub.
func (c *Core) Login(ctx context.Context, server, user, password string) error {
	auth := &engine.AuthConfig{Username: user, Password: password, ServerAddress: server}
	if err := c.Engine.Registry.Login(ctx, auth); err != nil {
		return err
	}
	return saveLogin(server, user, password)
}

// configKey is the name config.json keeps a registry's login under:
// Docker Hub's is the docker CLI's historical URL.
func configKey(server string) string {
	if server == "" || server == "docker.io" || server == name.DefaultRegistry {
		return "https://index.docker.io/v1/"
	}
	return server
}

// saveLogin stores the login as docker login would: in the credential
// helper config.json names for it, else base64 in the file (mode 0600).
func saveLogin(server, user, password string) error {
	path := dockerConfigPath()
	cfg := map[string]any{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &cfg); err != nil {
			return fmt.Errorf("%s is not valid JSON, so the login was not kept: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("read %s: %w", path, err)
	}
	key := configKey(server)
	helper, _ := cfg["credsStore"].(string)
	if helpers, ok := cfg["credHelpers"].(map[string]any); ok {
		if h, ok := helpers[key].(string); ok {
			helper = h
		}
	}
	if helper != "" {
		in, _ := json.Marshal(map[string]string{"ServerURL": key, "Username": user, "Secret": password})
		cmd := exec.Command("docker-credential-"+helper, "store")
		cmd.Stdin = bytes.NewReader(in)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("the credential helper docker-credential-%s did not keep the login: %v: %s", helper, err, bytes.TrimSpace(out))
		}
		return nil
	}
	auths, _ := cfg["auths"].(map[string]any)
	if auths == nil {
		auths = map[string]any{}
	}
	auths[key] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	cfg["auths"] = auths
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := iox.WriteFileAtomic(path, out, filepath.Dir(path)); err != nil {
		return fmt.Errorf("keep the login in %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}
