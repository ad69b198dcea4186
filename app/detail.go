package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// Fact is one labelled line of a container's details.
type Fact struct{ Label, Value string }

// ContainerFacts are a container's details as a person reads them (with
// "->", which every font has: Fyne's bundled one lacks "→"), for
// the detail view: what it runs, how it stands, where it listens, what it
// mounts, which networks it is on, its environment.
type ContainerFacts struct {
	Overview []Fact
	Ports    []string // "localhost:8080 -> 80/tcp"
	Mounts   []string // "volume data -> /data"
	Networks []string // "bridge: 10.88.0.5 (gateway 10.88.0.1)"
	Env      []string // NAME=value, sorted
}

// DescribeContainer words c's details at the time now.
func DescribeContainer(c engine.Container, now time.Time) ContainerFacts {
	var f ContainerFacts
	add := func(label, value string) {
		if value != "" {
			f.Overview = append(f.Overview, Fact{label, value})
		}
	}
	add("Name", c.Name)
	add("ID", ShortID(c.ID))
	add("Image", c.Image)
	add("Status", StatusText(c, now))
	if c.State.Error != "" {
		add("Last error", c.State.Error)
	}
	if h := c.State.Health; h != nil {
		health := h.Status
		if h.FailingStreak > 0 {
			health += fmt.Sprintf(" (%s failed in a row)", Plural(h.FailingStreak, "check", "checks"))
		}
		add("Health", health)
	}
	add("Command", command(c))
	if !c.Created.IsZero() {
		add("Created", c.Created.Local().Format("2006-01-02 15:04:05"))
	}
	if r := c.Spec.Restart; r.Name != "" && r.Name != "no" {
		add("Restart", r.Name)
	}
	if c.RestartCount > 0 {
		add("Restarts", fmt.Sprint(c.RestartCount))
	}
	ports := c.Ports
	if len(ports) == 0 {
		ports = c.Spec.Ports
	}
	for _, p := range ports {
		host := p.HostIP
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		f.Ports = append(f.Ports, fmt.Sprintf("%s:%d -> %d/%s", host, p.HostPort, p.ContainerPort, cmp.Or(p.Proto, "tcp")))
	}
	for _, m := range c.Spec.Mounts {
		src := m.Source
		if src == "" {
			src = "(anonymous)"
		}
		line := fmt.Sprintf("%s %s -> %s", m.Type, src, m.Target)
		if m.ReadOnly {
			line += " (read-only)"
		}
		f.Mounts = append(f.Mounts, line)
	}
	if c.IPAddress != "" {
		f.Networks = append(f.Networks, fmt.Sprintf("%s: %s (gateway %s)", cmp.Or(c.Spec.Network, "bridge"), c.IPAddress, c.Gateway))
	}
	for _, a := range c.Networks {
		if a.IPAddress == c.IPAddress && c.IPAddress != "" {
			continue // the first network, already there
		}
		line := a.Network
		if a.IPAddress != "" {
			line += ": " + a.IPAddress
		}
		if len(a.Aliases) > 0 {
			line += " (also " + strings.Join(a.Aliases, ", ") + ")"
		}
		f.Networks = append(f.Networks, line)
	}
	if len(f.Networks) == 0 && c.Spec.Network != "" {
		f.Networks = append(f.Networks, c.Spec.Network)
	}
	f.Env = slices.Sorted(slices.Values(c.Spec.Env))
	return f
}

// Processes lists the processes running in a container (docker top).
func (c *Core) Processes(ctx context.Context, id string) (engine.ProcessList, error) {
	if c.Engine.Insight == nil {
		return engine.ProcessList{}, fmt.Errorf("this engine does not list a container's processes: %w", engine.ErrNotSupported)
	}
	return c.Engine.Insight.Top(ctx, id)
}

// FileChanges are what a container changed in its image's files (docker
// diff), worded: "added /app/cache.db".
func (c *Core) FileChanges(ctx context.Context, id string) ([]string, error) {
	if c.Engine.Insight == nil {
		return nil, fmt.Errorf("this engine does not list a container's changes: %w", engine.ErrNotSupported)
	}
	changes, err := c.Engine.Insight.Changes(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(changes))
	for i, ch := range changes {
		out[i] = [...]string{"changed", "added", "deleted"}[min(max(ch.Kind, 0), 2)] + " " + ch.Path
	}
	return out, nil
}

// UsageHistory keeps a container's last samples of CPU and memory use,
// for the detail view's graph.
type UsageHistory struct {
	mu      sync.Mutex
	samples []Usage
	keep    int
}

// NewUsageHistory keeps the last n samples.
func NewUsageHistory(n int) *UsageHistory { return &UsageHistory{keep: n} }

// Add records a sample, dropping the oldest past the limit.
func (h *UsageHistory) Add(u Usage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, u)
	if len(h.samples) > h.keep {
		h.samples = slices.Delete(h.samples, 0, len(h.samples)-h.keep)
	}
}

// Samples are the kept samples, oldest first.
func (h *UsageHistory) Samples() []Usage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.samples)
}
