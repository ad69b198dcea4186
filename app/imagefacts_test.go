package app

import (
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
)

func TestDescribeImage(t *testing.T) {
	d := engine.ImageDetail{
		ImageSummary: engine.ImageSummary{ID: "sha256:0123456789abcdef0123", RepoTags: []string{"web:v1", "me/web:v1"}, Size: 1_980_000},
		Architecture: "amd64", OS: "linux", Layers: []string{"sha256:a", "sha256:b"},
		Config: engine.ImageConfig{Entrypoint: []string{"/entry.sh"}, Cmd: []string{"httpd", "-f"}, WorkingDir: "/www", ExposedPorts: []string{"8080/tcp"},
			Env: []string{"PATH=/bin", "MODE=dev"}, Labels: map[string]string{"b": "2", "a": "1"},
			Healthcheck: &engine.HealthCheck{Test: []string{"CMD-SHELL", "wget -q -O- localhost:8080"}}},
	}
	f := DescribeImage(d)
	want := []Fact{{"Names", "web:v1, me/web:v1"}, {"ID", "0123456789ab"}, {"Size", "1.98MB in 2 layers"}, {"Platform", "linux/amd64"},
		{"Runs", "/entry.sh httpd -f"}, {"Working folder", "/www"}, {"Listens on", "8080/tcp"}, {"Health check", "wget -q -O- localhost:8080"}}
	if !slices.Equal(f.Overview, want) {
		t.Errorf("overview\n got %q\nwant %q", f.Overview, want)
	}
	if !slices.Equal(f.Labels, []string{"a=1", "b=2"}) || !slices.Equal(f.Env, d.Config.Env) {
		t.Errorf("labels %q, env %q", f.Labels, f.Env)
	}
}

func TestHistorySteps(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	got := HistorySteps([]engine.HistoryItem{
		{CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]", EmptyLayer: true, Created: now.Add(-2 * time.Hour)},
		{CreatedBy: "RUN /bin/sh -c apk add curl # buildkit", Size: 3_000_000, Created: now.Add(-50 * time.Hour)},
		{CreatedBy: "", Comment: "imported from -", Size: 5, Created: now},
	}, now)
	want := []HistoryStep{{"CMD [\"sh\"]", "", "2 hours ago"}, {"RUN apk add curl", "3MB", "2 days ago"}, {"(imported from -)", "5B", "just now"}}
	if !slices.Equal(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}
