package app

import (
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
)

func TestDescribeContainer(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c := engine.Container{
		ID: "0123456789abcdef0123", Name: "web", Image: "python:3.11-slim", Path: "python3", Args: []string{"app.py"},
		State:     engine.ContainerState{Status: engine.StatusRunning, StartedAt: now.Add(-3 * time.Minute), Health: &engine.Health{Status: "unhealthy", FailingStreak: 2}},
		Ports:     []engine.PortBinding{{HostIP: "0.0.0.0", HostPort: 8080, ContainerPort: 80}, {HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Proto: "udp"}},
		Spec:      engine.ContainerSpec{Env: []string{"PATH=/usr/bin", "MODE=dev"}, Mounts: []engine.Mount{{Type: "volume", Source: "data", Target: "/data"}, {Type: "bind", Source: "/home/me/site", Target: "/www", ReadOnly: true}, {Type: "volume", Target: "/cache"}}, Restart: engine.RestartPolicy{Name: "always"}},
		IPAddress: "10.88.0.5", Gateway: "10.88.0.1",
		Networks: []engine.Attachment{{Network: "backend", IPAddress: "10.89.0.3", Aliases: []string{"api"}}},
	}
	f := DescribeContainer(c, now)
	overview := map[string]string{}
	for _, fact := range f.Overview {
		overview[fact.Label] = fact.Value
	}
	for label, want := range map[string]string{"Name": "web", "ID": "0123456789ab", "Image": "python:3.11-slim", "Status": "Up 3 minutes (unhealthy)",
		"Health": "unhealthy (2 checks failed in a row)", "Command": "python3 app.py", "Restart": "always"} {
		if overview[label] != want {
			t.Errorf("%s: %q, want %q", label, overview[label], want)
		}
	}
	for _, tt := range []struct {
		name      string
		got, want []string
	}{
		{"ports", f.Ports, []string{"localhost:8080 -> 80/tcp", "127.0.0.1:5353 -> 53/udp"}},
		{"mounts", f.Mounts, []string{"volume data -> /data", "bind /home/me/site -> /www (read-only)", "volume (anonymous) -> /cache"}},
		{"networks", f.Networks, []string{"bridge: 10.88.0.5 (gateway 10.88.0.1)", "backend: 10.89.0.3 (also api)"}},
		{"environment", f.Env, []string{"MODE=dev", "PATH=/usr/bin"}},
	} {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// A container Watch keeps under its supervisor shows the command it runs.
func TestDescribeASupervisedContainer(t *testing.T) {
	spec, ok := supervised(engine.ContainerSpec{Image: "app:dev"}, engine.ImageConfig{Cmd: []string{"python3", "app.py"}})
	if !ok {
		t.Fatal("not supervised")
	}
	c := engine.Container{Path: spec.Entrypoint[0], Args: append(spec.Entrypoint[1:], spec.Cmd...), Labels: spec.Labels}
	facts := DescribeContainer(c, time.Now()).Overview
	i := slices.IndexFunc(facts, func(f Fact) bool { return f.Label == "Command" })
	if i < 0 || facts[i].Value != "python3 app.py (restarted by Watch on a sync)" {
		t.Errorf("facts %+v", facts)
	}
}

func TestUsageHistoryKeepsTheLastSamples(t *testing.T) {
	h := NewUsageHistory(3)
	for i := range 5 {
		h.Add(Usage{CPUPercent: float64(i)})
	}
	var got []float64
	for _, u := range h.Samples() {
		got = append(got, u.CPUPercent)
	}
	if !slices.Equal(got, []float64{2, 3, 4}) {
		t.Errorf("samples %v", got)
	}
}
