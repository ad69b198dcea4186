package app_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
)

func TestSettingsLoadSaveAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "berth", "config.toml")
	s, warnings, err := app.LoadSettings(path)
	if err != nil || len(warnings) != 0 || s.Theme != "system" || s.WatchDebounce.Duration != 150*time.Millisecond || s.DefaultRegistry != "docker.io" {
		t.Fatalf("missing file: %+v %v %v", s, warnings, err)
	}
	s.Engine = "tcp://10.0.0.5:2376"
	s.TLSVerify = true
	s.InsecureRegistries = []string{"registry.lan:5000"}
	s.Theme = "dark"
	s.WatchDebounce = app.Duration{300 * time.Millisecond}
	if err := app.SaveSettings(path, s); err != nil {
		t.Fatal(err)
	}
	got, _, err := app.LoadSettings(path)
	if err != nil || got.Engine != s.Engine || !got.TLSVerify || got.Theme != "dark" || got.WatchDebounce.Duration != 300*time.Millisecond || got.InsecureRegistries[0] != "registry.lan:5000" {
		t.Fatalf("round trip: %+v %v", got, err)
	}

	cases := []struct{ text, want string }{
		{"theme = \"dark\"\nengine = \"unix:///x.sock\nwatch_debounce = \"1s\"\n", "line 2"},
		{"theme = \"purple\"\n", `theme = "purple": use "system", "light" or "dark"`},
		{"engine = \"/var/run/docker.sock\"\n", "write unix:///path/to.sock, tcp://host:port, ssh://user@host or vm"},
		{"watch_debounce = \"soon\"\n", `"soon" is not a duration`},
		{fmt.Sprintf("engine = \"tcp://10.0.0.5:2376\"\ntls_verify = true\ncert_path = %q\n", dir), "TLS needs ca.pem there"},
	}
	for _, tc := range cases {
		os.WriteFile(path, []byte(tc.text), 0o644)
		s, _, err := app.LoadSettings(path)
		var se *app.SettingsError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: %v, want a app.SettingsError mentioning %q", tc.text, err, tc.want)
		}
		if s.Theme != "system" {
			t.Errorf("%q: a broken file must give the defaults, got %+v", tc.text, s)
		}
	}
	os.WriteFile(path, []byte("engine = \"vm\"\n[vm]\ncpus = 4\nkeep_running = true\n"), 0o644)
	if s, _, err := app.LoadSettings(path); err != nil || s.Engine != "vm" || s.VM.CPUs != 4 || s.VM.MemoryMB != 2048 || !s.VM.KeepRunning {
		t.Fatalf("[vm] settings: %+v %v", s.VM, err)
	}
	os.WriteFile(path, []byte("[vm]\nmemory_mb = 64\n"), 0o644)
	if _, _, err := app.LoadSettings(path); err == nil || !strings.Contains(err.Error(), "256 MB") {
		t.Fatalf("a 64 MB VM: %v", err)
	}
	os.WriteFile(path, []byte("theme = \"light\"\ncolour = \"blue\"\n"), 0o644)
	s, warnings, err = app.LoadSettings(path)
	if err != nil || s.Theme != "light" || len(warnings) != 1 || !strings.Contains(warnings[0], `unknown setting "colour"`) {
		t.Fatalf("unknown key: %+v %v %v", s, warnings, err)
	}
}

func TestParseRunOptions(t *testing.T) {
	spec, err := app.ParseRunOptions(app.RunOptions{Image: "nginx:1.27", Name: "web", Ports: "8080:80, 127.0.0.1:8443:443/tcp 53/udp", Env: "A=1\n\nB=two words", Volumes: "/srv/www:/usr/share/nginx/html:ro\ndata:/data", Command: "nginx -g 'daemon off;'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Ports) != 3 || spec.Ports[0].HostPort != 8080 || spec.Ports[0].ContainerPort != 80 || spec.Ports[1].HostIP != "127.0.0.1" || spec.Ports[2].Proto != "udp" || spec.Ports[2].HostPort != 0 {
		t.Fatalf("ports %+v", spec.Ports)
	}
	if len(spec.Env) != 2 || len(spec.Mounts) != 2 || spec.Mounts[0].Type != "bind" || !spec.Mounts[0].ReadOnly || spec.Mounts[1].Type != "volume" || spec.Cmd[2] != "nginx -g 'daemon off;'" {
		t.Fatalf("spec %+v", spec)
	}
	for _, bad := range []app.RunOptions{{}, {Image: "x", Ports: "80:http"}, {Image: "x", Ports: "70000:80"}, {Image: "x", Env: "NOEQUALS"}, {Image: "x", Volumes: "relative"}} {
		if _, err := app.ParseRunOptions(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestUsesVM(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	native := goruntime.GOOS == "linux"
	for _, tc := range []struct {
		engine, dockerHost string
		want               bool
	}{
		{"vm", "", true},
		{"vm", "unix:///var/run/docker.sock", true},
		{"unix:///run/berth/berth.sock", "", false},
		{"", "", !native}, // the default: the VM where the engine cannot run natively
		{"", "tcp://10.0.0.5:2376", false},
	} {
		t.Setenv("DOCKER_HOST", tc.dockerHost)
		if got := (app.Settings{Engine: tc.engine}).UsesVM(); got != tc.want {
			t.Errorf("engine %q, DOCKER_HOST %q: UsesVM = %v, want %v", tc.engine, tc.dockerHost, got, tc.want)
		}
	}
}

// The VM shares the home folder unless the settings list folders; "~"
// is the home folder, shares = [] shares nothing, relative paths are
// refused with what to write.
func TestVMShares(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct {
		toml    string
		want    []string
		wantErr string
	}{
		{"", []string{home}, ""},
		{"[vm]\nshares = []\n", nil, ""},
		{"[vm]\nshares = [\"~\", \"~/work\", \"/Volumes/Data/\"]\n", []string{home, filepath.Join(home, "work"), "/Volumes/Data"}, ""},
		{"[vm]\nshares = [\"projects\"]\n", nil, "not a full path"},
	} {
		path := filepath.Join(t.TempDir(), "config.toml")
		os.WriteFile(path, []byte(tc.toml), 0o644)
		s, _, err := app.LoadSettings(path)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: %v, want an error saying %q", tc.toml, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.toml, err)
		}
		got, err := s.VM.SharedFolders()
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: shares %q %v, want %q", tc.toml, got, err, tc.want)
		}
	}
}

func TestTildePathAndExpandHome(t *testing.T) {
	t.Setenv("HOME", "/home/ada")
	for _, tc := range []struct{ path, tilde string }{
		{"/home/ada/web/Dockerfile", "~/web/Dockerfile"},
		{"/home/ada", "~"},
		{"/home/adam/web", "/home/adam/web"},
		{"/srv/web", "/srv/web"},
		{"", ""},
	} {
		if got := app.TildePath(tc.path); got != tc.tilde {
			t.Errorf("TildePath(%q) = %q, want %q", tc.path, got, tc.tilde)
		}
		if got := app.ExpandHome(tc.tilde); got != tc.path {
			t.Errorf("ExpandHome(%q) = %q, want %q", tc.tilde, got, tc.path)
		}
	}
}
