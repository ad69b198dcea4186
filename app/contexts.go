package app

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/iox"
)

// The docker CLI's contexts name the engines a person uses (`docker context
// create big --docker host=ssh://me@big`); Berth reads the same store, so
// an engine set up once is there in both, and writes its own engine into
// it (berth engine start --docker-context).

// BerthContext is the name Berth's own engine goes by, in Berth's list
// and in the docker CLI's (once written there).
const BerthContext = "berth"

// DefaultContext is the docker CLI's implicit context: $DOCKER_HOST, else
// the platform's Docker socket.
const DefaultContext = "default"

// EngineContext is a named engine.
type EngineContext struct {
	Name, Description string
	// Host is the address in DOCKER_HOST form; empty for Berth's own
	// engine, whose address depends on the platform (and on macOS and
	// Windows is its VM).
	Host string
	// TLSDir holds ca.pem, cert.pem and key.pem when the context uses TLS.
	TLSDir string
	// DockerCurrent: the docker CLI uses this context now.
	DockerCurrent bool
}

// Own says whether this is Berth's own engine.
func (c EngineContext) Own() bool { return c.Name == BerthContext }

// dockerConfigDir is $DOCKER_CONFIG, else ~/.docker.
func dockerConfigDir() string { return filepath.Dir(dockerConfigPath()) }

// contextDir is the folder a context's files are kept under: the docker
// CLI names it by the SHA-256 of the context's name.
func contextDir(kind, name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(dockerConfigDir(), "contexts", kind, hex.EncodeToString(sum[:]))
}

// contextMeta is meta.json as the docker CLI writes it.
type contextMeta struct {
	Name     string `json:"Name"`
	Metadata struct {
		Description string `json:"Description,omitempty"`
	} `json:"Metadata"`
	Endpoints map[string]struct {
		Host          string `json:"Host"`
		SkipTLSVerify bool   `json:"SkipTLSVerify"`
	} `json:"Endpoints"`
}

// dockerCurrentContext is currentContext in the docker CLI's config.json.
func dockerCurrentContext() string {
	data, err := os.ReadFile(dockerConfigPath())
	if err != nil {
		return ""
	}
	var cfg struct {
		CurrentContext string `json:"currentContext"`
	}
	json.Unmarshal(data, &cfg)
	return cfg.CurrentContext
}

// Contexts lists the engines a person can choose: Berth's own first, the
// docker CLI's default, then the contexts in the docker CLI's store by
// name. Contexts whose files cannot be read are left out, and the error
// says which and why; the rest still come back.
func Contexts() ([]EngineContext, error) {
	current := cmp.Or(dockerCurrentContext(), DefaultContext)
	list := []EngineContext{
		{Name: BerthContext, Description: "Berth's own engine"},
		{Name: DefaultContext, Description: "Docker's default engine ($DOCKER_HOST, else its socket)", Host: dockerDefaultHost()},
	}
	var errs *multierror.Error
	metaRoot := filepath.Join(dockerConfigDir(), "contexts", "meta")
	entries, err := os.ReadDir(metaRoot)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = multierror.Append(errs, fmt.Errorf("read the docker CLI's contexts: %w", err))
	}
	var stored []EngineContext
	for _, e := range entries {
		c, err := readContext(filepath.Join(metaRoot, e.Name(), "meta.json"))
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		if c.Name == BerthContext || c.Name == DefaultContext {
			continue // Berth's own is already first; default is the CLI's own
		}
		stored = append(stored, c)
	}
	slices.SortFunc(stored, func(a, b EngineContext) int { return cmp.Compare(a.Name, b.Name) })
	list = append(list, stored...)
	for i := range list {
		list[i].DockerCurrent = list[i].Name == current
	}
	return list, errs.ErrorOrNil()
}

func readContext(path string) (EngineContext, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return EngineContext{}, fmt.Errorf("read the docker context %s: %w", path, err)
	}
	var m contextMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return EngineContext{}, fmt.Errorf("the docker context %s is not valid JSON: %w", path, err)
	}
	ep, ok := m.Endpoints["docker"]
	if m.Name == "" || !ok || ep.Host == "" {
		return EngineContext{}, fmt.Errorf("the docker context %s names no engine (no docker endpoint's Host)", path)
	}
	if ep.SkipTLSVerify {
		return EngineContext{}, fmt.Errorf("the docker context %q skips TLS verification, which Berth does not do: give it the engine's CA certificate instead", m.Name)
	}
	c := EngineContext{Name: m.Name, Description: m.Metadata.Description, Host: ep.Host}
	tlsDir := filepath.Join(contextDir("tls", m.Name), "docker")
	if _, err := os.Stat(filepath.Join(tlsDir, "ca.pem")); err == nil {
		c.TLSDir = tlsDir
	}
	return c, nil
}

// FindContext is the context called name.
func FindContext(name string) (EngineContext, error) {
	list, err := Contexts()
	if i := slices.IndexFunc(list, func(c EngineContext) bool { return c.Name == name }); i >= 0 {
		return list[i], nil
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.Name
	}
	// No sentinel: "not found" would be worded as a missing image.
	miss := fmt.Errorf("there is no engine context %q (there are: %s; docker context create adds one)", name, strings.Join(names, ", "))
	if err != nil {
		return EngineContext{}, errors.Join(miss, err)
	}
	return EngineContext{}, miss
}

// dockerDefaultHost is the docker CLI's default engine.
func dockerDefaultHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	if goruntime.GOOS == "windows" {
		return "npipe:////./pipe/docker_engine"
	}
	return "unix:///var/run/docker.sock"
}

// WriteDockerContext puts an engine into the docker CLI's contexts under
// name, as `docker context create name --docker host=…` would, replacing
// one of that name: then `docker --context name` (or `docker context use
// name`) reaches it.
func WriteDockerContext(name, description, host string) error {
	if _, err := client.New(host); err != nil {
		return err
	}
	var m contextMeta
	m.Name, m.Metadata.Description = name, description
	m.Endpoints = map[string]struct {
		Host          string `json:"Host"`
		SkipTLSVerify bool   `json:"SkipTLSVerify"`
	}{"docker": {Host: host}}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dir := contextDir("meta", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make the docker context %s: %w", name, err)
	}
	if err := iox.WriteFileAtomic(filepath.Join(dir, "meta.json"), data, dir); err != nil {
		return fmt.Errorf("write the docker context %s: %w", name, err)
	}
	return nil
}
