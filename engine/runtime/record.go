package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// record is what a container's container.json holds: the public view
// plus what its next start needs.
type record struct {
	engine.Container
	Env      []string `json:"env"`
	Cwd      string   `json:"cwd"`
	UserSpec string   `json:"user"`
	Layers   []string `json:"layers"` // diff IDs, base first
	// UserStopped: stopped by a person, so the restart policy stays quiet
	// (and unless-stopped does not bring it back when the engine restarts).
	UserStopped bool `json:"userStopped"`
	// NetNS names the network namespace of the current run.
	NetNS string `json:"netns,omitempty"`
	// AnonVolumes are volume directories made for this container alone.
	AnonVolumes []string     `json:"anonVolumes,omitempty"`
	MountsSpec  []mountPoint `json:"mountPoints,omitempty"`
	mounts      []mountPoint
}

// mountPoint is a mount with its host directory resolved.
type mountPoint struct {
	engine.Mount
	hostPath string
	HostPath string `json:"hostPath"`
}

func (r *record) hostname() string {
	if r.Spec.Hostname != "" {
		return r.Spec.Hostname
	}
	return r.ID[:12]
}

func (r *record) save(dir string) error {
	r.MountsSpec = r.mounts
	for i := range r.MountsSpec {
		r.MountsSpec[i].HostPath = r.MountsSpec[i].hostPath
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".container.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "container.json"))
}

func loadRecord(dir string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(dir, "container.json"))
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	r.mounts = r.MountsSpec
	for i := range r.mounts {
		r.mounts[i].hostPath = r.mounts[i].HostPath
	}
	return &r, nil
}

// mergeEnv overlays env on base by variable name, keeping base's order.
func mergeEnv(base, env []string) []string {
	out := append([]string(nil), base...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, kv := range env {
		k, _, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			// "-e NAME" passes the variable through only when set; the
			// CLI already resolved it, so a bare name is dropped.
			continue
		}
		if i, ok := index[k]; ok {
			out[i] = kv
		} else {
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

func parseInt(s string) (int, error) { return strconv.Atoi(s) }

// commandLine resolves entrypoint and cmd the way docker does: an
// overridden entrypoint drops the image's cmd unless cmd is given too.
func commandLine(spec engine.ContainerSpec, img engine.ImageConfig) []string {
	entrypoint, cmd := img.Entrypoint, img.Cmd
	if spec.Entrypoint != nil {
		entrypoint, cmd = spec.Entrypoint, nil
	}
	if spec.Cmd != nil {
		cmd = spec.Cmd
	}
	return append(append([]string(nil), entrypoint...), cmd...)
}
