package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// saveLogin writes what docker login writes: Docker Hub under the CLI's
// URL, other registries by host, other keys of config.json kept, or the
// login handed to the credential helper config.json names.
func TestSaveLogin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"psFormat": "table {{.ID}}"}`), 0o600)
	if err := saveLogin("", "me", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := saveLogin("127.0.0.1:5000", "you", "pw2"); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		PsFormat string `json:"psFormat"`
		Auths    map[string]struct{ Auth string }
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.PsFormat == "" || cfg.Auths["https://index.docker.io/v1/"].Auth != "bWU6cHc=" || cfg.Auths["127.0.0.1:5000"].Auth != "eW91OnB3Mg==" {
		t.Fatalf("config.json:\n%s", data)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "config.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json has mode %v", fi.Mode().Perm())
	}
	if c := credentialsFor("127.0.0.1:5000/app:v1"); c == nil || c.Username != "you" || c.Password != "pw2" {
		t.Errorf("credentialsFor reads back %+v", c)
	}

	if runtime.GOOS == "windows" {
		return
	}
	bin := t.TempDir()
	kept := filepath.Join(bin, "kept.json")
	os.WriteFile(filepath.Join(bin, "docker-credential-test"), []byte("#!/bin/sh\ncat > "+kept+"\n"), 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"credsStore": "test"}`), 0o600)
	if err := saveLogin("ghcr.io", "me", "token"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(kept); !strings.Contains(string(got), `"ServerURL":"ghcr.io"`) || !strings.Contains(string(got), `"Secret":"token"`) {
		t.Errorf("the helper got %s", got)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "config.json")); strings.Contains(string(data), "token") {
		t.Errorf("with a helper the secret went into config.json:\n%s", data)
	}
}

func TestRegistryOf(t *testing.T) {
	for ref, want := range map[string]string{"busybox": "", "docker.io/library/busybox:1": "", "ghcr.io/me/app:v1": "ghcr.io", "localhost:5000/app": "localhost:5000", "bad name!": ""} {
		if got := RegistryOf(ref); got != want {
			t.Errorf("RegistryOf(%q) = %q, want %q", ref, got, want)
		}
	}
}
