package dockerfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/engine"
	"go.yaml.in/yaml/v3"
)

// Config is a project's settings for the checks, in the shape of
// hadolint's .hadolint.yaml, so a project that has one keeps it: rules are
// named by Berth's IDs or hadolint's codes.
//
//	ignored: [DL3008, RootUser]
//	failure-threshold: warning      # error | warning | info | style | none
//	format: json                    # berth lint's default output format
//	override:
//	  error: [DL3009]
//	  info: [UseAptGet]
//	no-fail: false
//	disable-ignore-pragma: false    # ignore "# hadolint ignore=" comments
//
// Other hadolint keys (trustedRegistries, label-schema …) are accepted
// and have no effect.
type Config struct {
	Ignored          []string `yaml:"ignored"`
	FailureThreshold string   `yaml:"failure-threshold"`
	Format           string   `yaml:"format"`
	NoFail           bool     `yaml:"no-fail"`
	Override         struct {
		Error   []string `yaml:"error"`
		Warning []string `yaml:"warning"`
		Info    []string `yaml:"info"`
		Style   []string `yaml:"style"`
	} `yaml:"override"`
	DisableIgnorePragma bool `yaml:"disable-ignore-pragma"`

	ignored  map[string]bool
	severity map[string]engine.Severity
}

// ParseConfig reads a .hadolint.yaml-style configuration.
func ParseConfig(data []byte) (*Config, error) {
	c := &Config{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, c); err != nil {
			return nil, fmt.Errorf("lint configuration: %w", err)
		}
	}
	switch c.FailureThreshold {
	case "", "error", "warning", "info", "style", "none":
	default:
		return nil, fmt.Errorf("lint configuration: failure-threshold %q: want error, warning, info, style or none", c.FailureThreshold)
	}
	c.ignored = ruleIDs(c.Ignored)
	c.severity = map[string]engine.Severity{}
	for sev, names := range map[engine.Severity][][]string{
		engine.SeverityError:   {c.Override.Error},
		engine.SeverityWarning: {c.Override.Warning},
		engine.SeverityInfo:    {c.Override.Info, c.Override.Style},
	} {
		for _, list := range names {
			for id := range ruleIDs(list) {
				c.severity[id] = sev
			}
		}
	}
	return c, nil
}

// LoadConfig reads the configuration at path; with an empty path it looks
// where hadolint does: .hadolint.yaml (or .yml) in dir, then
// $XDG_CONFIG_HOME/hadolint.yaml. No file is no configuration: nil, nil.
func LoadConfig(path, dir string) (*Config, error) {
	candidates := []string{path}
	if path == "" {
		candidates = []string{filepath.Join(dir, ".hadolint.yaml"), filepath.Join(dir, ".hadolint.yml")}
		if cfg, err := os.UserConfigDir(); err == nil {
			candidates = append(candidates, filepath.Join(cfg, "hadolint.yaml"))
		}
	}
	for _, p := range candidates {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) && path == "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read lint configuration: %w", err)
		}
		c, err := ParseConfig(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return c, nil
	}
	return nil, nil
}

// Ignore adds rules (Berth's names or hadolint's codes) not to report.
func (c *Config) Ignore(names ...string) {
	c.Ignored = append(c.Ignored, names...)
	if c.ignored == nil {
		c.ignored = map[string]bool{}
	}
	for id := range ruleIDs(names) {
		c.ignored[id] = true
	}
}

// apply says whether d is kept, and with which severity.
func (c *Config) apply(d engine.Diagnostic) (engine.Diagnostic, bool) {
	if c.ignored[d.Rule] {
		return d, false
	}
	if sev, ok := c.severity[d.Rule]; ok {
		d.Severity = sev
	}
	return d, true
}
