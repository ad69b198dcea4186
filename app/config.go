package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/berth-dev/berth/engine/client"
)

// Settings are the app's preferences, kept in config.toml.
type Settings struct {
	// Engine is the engine's address: "" picks $DOCKER_HOST, else Berth's
	// own engine (started by the app when none answers); or
	// unix:///path, tcp://host:port (TLS with TLSVerify and the cert dir).
	Engine string `toml:"engine"`
	// Context names the engine instead, from the docker CLI's contexts
	// ("berth" is Berth's own; see Contexts). Choosing one clears Engine.
	Context   string `toml:"context"`
	TLSVerify bool   `toml:"tls_verify"`
	CertPath  string `toml:"cert_path"` // ca.pem, cert.pem, key.pem; default ~/.docker
	// InsecureRegistries are registries reached over plain HTTP.
	InsecureRegistries []string `toml:"insecure_registries"`
	// DefaultRegistry is what Search asks when no registry is named.
	DefaultRegistry string `toml:"default_registry"`
	// Theme: "system", "light" or "dark".
	Theme string `toml:"theme"`
	// WatchDebounce is how long the watcher waits after the last save.
	WatchDebounce Duration `toml:"watch_debounce"`
	// Welcome is false once the first-run tour was seen or skipped.
	Welcome *bool `toml:"welcome"`
	// VM sizes Berth's VM (engine = "vm"; on macOS and Windows the engine
	// always runs there).
	VM VMSettings `toml:"vm"`
}

// VMSettings size the VM and say whether it outlives the app.
type VMSettings struct {
	CPUs        int  `toml:"cpus"`
	MemoryMB    int  `toml:"memory_mb"`
	DiskGB      int  `toml:"disk_gb"`
	KeepRunning bool `toml:"keep_running"`
	// StateDir holds the VM's disk, keys and console log; default
	// vm.DefaultStateDir.
	StateDir string `toml:"state_dir"`
	// Shares are the folders of this computer that containers in the VM
	// can bind-mount, at the same paths ("~" is the home folder); default
	// the home folder. Not on Windows, whose QEMU cannot share folders.
	Shares []string `toml:"shares"`
}

// SharedFolders are the VM's shares with "~" expanded; nil settings mean
// the home folder. Relative paths are refused.
func (v VMSettings) SharedFolders() ([]string, error) {
	if v.Shares == nil {
		if home, _ := os.UserHomeDir(); home != "" {
			return []string{home}, nil
		}
		return nil, nil
	}
	var out []string
	for _, s := range v.Shares {
		s = ExpandHome(s)
		if !filepath.IsAbs(s) {
			return nil, fmt.Errorf("[vm] shares: %q is not a full path (write it from / or ~/)", s)
		}
		out = append(out, filepath.Clean(s))
	}
	return out, nil
}

// ExpandHome reads a leading ~ as the home folder, as a shell would.
func ExpandHome(path string) string {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~"))
}

// TildePath writes a path in the home folder from ~, as a person reads it.
func TildePath(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return path
	}
	if rel, err := filepath.Rel(home, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Join("~", rel)
	}
	return path
}

// UsesVM says whether the app runs the engine in Berth's VM: when the
// settings say engine = "vm", and on macOS and Windows whenever Berth's
// own engine is the one chosen, as it cannot run natively there.
func (s Settings) UsesVM() bool {
	if s.Engine == "vm" {
		return true
	}
	t, err := s.target()
	return err == nil && t.own && goruntime.GOOS != "linux"
}

// Duration is a time.Duration written as "150ms" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText reads "150ms", "1s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like 150ms or 1s)", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// DefaultSettings are used for anything config.toml leaves out.
func DefaultSettings() Settings {
	yes := true
	return Settings{DefaultRegistry: "docker.io", Theme: "system", WatchDebounce: Duration{150 * time.Millisecond}, Welcome: &yes,
		VM: VMSettings{CPUs: 2, MemoryMB: 2048, DiskGB: 64}}
}

// ConfigPath is $XDG_CONFIG_HOME/berth/config.toml (~/.config/... when
// unset; the platform's config directory on macOS and Windows).
func ConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = filepath.Join(os.TempDir(), "berth-config")
	}
	return filepath.Join(dir, "berth", "config.toml")
}

// SettingsError is a config.toml that cannot be read, with the line.
type SettingsError struct {
	Path string
	Line int
	Msg  string
}

func (e *SettingsError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s, line %d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// LoadSettings reads path. A missing file gives the defaults. A broken
// one gives the defaults and a *SettingsError naming the line, so the app
// starts anyway and says what to fix; unknown keys come back as warnings.
func LoadSettings(path string) (Settings, []string, error) {
	s := DefaultSettings()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil, nil
	}
	if err != nil {
		return s, nil, &SettingsError{Path: path, Msg: err.Error()}
	}
	var read Settings
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&read)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return s, nil, &SettingsError{Path: path, Line: pe.Position.Line, Msg: strings.TrimSpace(pe.Message)}
		}
		return s, nil, &SettingsError{Path: path, Msg: err.Error()}
	}
	var warnings []string
	for _, k := range md.Undecoded() {
		warnings = append(warnings, fmt.Sprintf("%s: unknown setting %q ignored", path, k.String()))
	}
	sort.Strings(warnings)
	merge(&s, read, md)
	if err := s.validate(); err != nil {
		return DefaultSettings(), warnings, &SettingsError{Path: path, Msg: err.Error()}
	}
	return s, warnings, nil
}

func merge(s *Settings, read Settings, md toml.MetaData) {
	if md.IsDefined("engine") {
		s.Engine = read.Engine
	}
	if md.IsDefined("context") {
		s.Context = read.Context
	}
	if md.IsDefined("tls_verify") {
		s.TLSVerify = read.TLSVerify
	}
	if md.IsDefined("cert_path") {
		s.CertPath = read.CertPath
	}
	if md.IsDefined("insecure_registries") {
		s.InsecureRegistries = read.InsecureRegistries
	}
	if md.IsDefined("default_registry") {
		s.DefaultRegistry = read.DefaultRegistry
	}
	if md.IsDefined("theme") {
		s.Theme = read.Theme
	}
	if md.IsDefined("watch_debounce") {
		s.WatchDebounce = read.WatchDebounce
	}
	if md.IsDefined("welcome") {
		s.Welcome = read.Welcome
	}
	for key, set := range map[string]func(){
		"cpus": func() { s.VM.CPUs = read.VM.CPUs }, "memory_mb": func() { s.VM.MemoryMB = read.VM.MemoryMB },
		"disk_gb": func() { s.VM.DiskGB = read.VM.DiskGB }, "keep_running": func() { s.VM.KeepRunning = read.VM.KeepRunning },
		"state_dir": func() { s.VM.StateDir = read.VM.StateDir },
		"shares":    func() { s.VM.Shares = append([]string{}, read.VM.Shares...) }, // shares = [] shares nothing
	} {
		if md.IsDefined("vm", key) {
			set()
		}
	}
}

func (s Settings) validate() error {
	switch s.Theme {
	case "system", "light", "dark":
	default:
		return fmt.Errorf("theme = %q: use \"system\", \"light\" or \"dark\"", s.Theme)
	}
	if s.Engine != "" && s.Engine != "vm" {
		if _, err := client.New(s.Engine); err != nil {
			if strings.HasPrefix(s.Engine, "ssh://") {
				return err // says what is wrong in it
			}
			return fmt.Errorf("engine = %q: write unix:///path/to.sock, tcp://host:port, ssh://user@host or vm", s.Engine)
		}
	}
	if s.TLSVerify && s.CertPath != "" {
		for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
			if _, err := os.Stat(filepath.Join(s.CertPath, f)); err != nil {
				return fmt.Errorf("cert_path = %q: TLS needs %s there (with ca.pem, cert.pem and key.pem): %w", s.CertPath, f, err)
			}
		}
	}
	if s.VM.CPUs < 1 || s.VM.MemoryMB < 256 || s.VM.DiskGB < 1 {
		return fmt.Errorf("[vm] cpus = %d, memory_mb = %d, disk_gb = %d: the VM needs at least 1 CPU, 256 MB and 1 GB", s.VM.CPUs, s.VM.MemoryMB, s.VM.DiskGB)
	}
	if _, err := s.VM.SharedFolders(); err != nil {
		return err
	}
	if s.WatchDebounce.Duration < 0 || s.WatchDebounce.Duration > time.Minute {
		return fmt.Errorf("watch_debounce = %s: use a value between 0s and 1m", s.WatchDebounce.Duration)
	}
	return nil
}

// SaveSettings writes s to path (atomically: a crash leaves the old file).
func SaveSettings(path string, s Settings) error {
	if err := s.validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("# Berth settings. Edit here or in the app's Settings dialog.\n")
	if err := toml.NewEncoder(&buf).Encode(s); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return os.Rename(tmp, path)
}
