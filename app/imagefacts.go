package app

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
)

// ImageFacts are an image's details as a person reads them, for Inspect:
// what it is, what running it does, what it holds. The raw JSON stays one
// click away in the view.
type ImageFacts struct {
	Overview []Fact
	Env      []string // NAME=value, as the image sets them
	Labels   []string // key=value, sorted
}

// DescribeImage words d's details.
func DescribeImage(d engine.ImageDetail) ImageFacts {
	var f ImageFacts
	add := func(label, value string) {
		if value != "" {
			f.Overview = append(f.Overview, Fact{label, value})
		}
	}
	add("Names", strings.Join(d.RepoTags, ", "))
	add("ID", ShortID(d.ID))
	add("Digests", strings.Join(d.RepoDigests, ", "))
	if !d.Created.IsZero() {
		add("Built", d.Created.Local().Format("2006-01-02 15:04:05"))
	}
	add("Size", HumanSize(d.Size)+" in "+Plural(len(d.Layers), "layer", "layers"))
	platform := d.OS + "/" + d.Architecture
	if d.Variant != "" {
		platform += "/" + d.Variant
	}
	add("Platform", strings.Trim(platform, "/"))
	c := d.Config
	add("Runs", strings.Join(append(slices.Clone(c.Entrypoint), c.Cmd...), " "))
	add("Working folder", c.WorkingDir)
	add("User", c.User)
	add("Listens on", strings.Join(c.ExposedPorts, ", "))
	add("Volumes", strings.Join(c.Volumes, ", "))
	if h := c.Healthcheck; h != nil && len(h.Test) > 0 && h.Test[0] != "NONE" {
		add("Health check", strings.Join(h.Test[1:], " "))
	}
	add("Stop signal", c.StopSignal)
	add("Author", d.Author)
	f.Env = c.Env
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		f.Labels = append(f.Labels, k+"="+c.Labels[k])
	}
	return f
}

// HistoryStep is one row of an image's history, as a person reads it.
type HistoryStep struct {
	Step string // the instruction, as a Dockerfile line reads
	Size string // "1.98MB", or "" for a step that changed settings only
	Age  string // "2 years ago"
}

// HistorySteps words an image's history (newest first, as docker history
// lists it) without /bin/sh -c, #(nop) and buildkit's markers.
func HistorySteps(items []engine.HistoryItem, now time.Time) []HistoryStep {
	out := make([]HistoryStep, 0, len(items))
	for _, h := range items {
		s := HistoryStep{Step: ReadableStep(h.CreatedBy), Age: Age(h.Created, now)}
		if !h.EmptyLayer && h.Size > 0 {
			s.Size = HumanSize(h.Size)
		}
		if s.Step == "" {
			s.Step = fmt.Sprintf("(%s)", strings.TrimSpace(h.Comment))
		}
		out = append(out, s)
	}
	return out
}
