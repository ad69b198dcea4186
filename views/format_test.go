package views

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

func TestFormat(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		got, want string
	}{
		{HumanSize(3), "3B"}, {HumanSize(1980000), "1.98MB"}, {HumanSize(52_400_000), "52.4MB"}, {HumanSize(123_000_000_000), "123GB"},
		{HumanAge(now.Add(-3*time.Second), now), "just now"}, {HumanAge(now.Add(-5*time.Minute), now), "5 minutes ago"},
		{HumanAge(now.Add(-50*time.Hour), now), "2 days ago"}, {HumanAge(time.Time{}, now), ""},
		{Uptime(engine.Container{State: engine.ContainerState{Status: engine.StatusRunning, StartedAt: now.Add(-3 * time.Hour)}}, now), "Up 3 hours"},
		{Uptime(engine.Container{State: engine.ContainerState{Status: engine.StatusExited, ExitCode: 2, FinishedAt: now.Add(-2 * time.Minute)}}, now), "Exited (2) 2 minutes ago"},
		{Ports(engine.Container{Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, {HostPort: 53, ContainerPort: 53, Proto: "udp"}}}), "127.0.0.1:8080->80/tcp, 0.0.0.0:53->53/udp"},
		{Networks(engine.Container{Networks: []engine.Attachment{{Network: "proj", IPAddress: "10.89.0.2"}, {Network: "spare"}}}), "network proj (10.89.0.2), spare"},
		{Networks(engine.Container{}), ""},
		{Percent(0.456), "46%"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDockerfileColours(t *testing.T) {
	src := "# comment\nFROM busybox:1.36 AS base\nCOPY --chown=app $SRC \"/dst dir\"\nRUN echo \\\n  FROM not-a-keyword\nEXPOSE 8080\nRUN python3 -m x 2nd\n"
	segs := dockerfileSegments(src)
	var got []string
	for _, s := range segs {
		ts := s.(*widget.TextSegment)
		if strings.TrimSpace(ts.Text) != "" {
			got = append(got, string(ts.Style.ColorName)+":"+ts.Text)
		}
	}
	// Numbers stand out from letters (0 and O look alike in the font),
	// but not digits inside a word.
	want := []string{"placeholder:# comment", "primary:FROM", "foreground:busybox:", "warning:1", "foreground:.", "warning:36", "foreground: AS base", "primary:COPY", "hyperlink:--chown=app", "warning:$SRC", "success:\"/dst dir\"", "primary:RUN", "foreground:echo \\", "foreground:FROM not-a-keyword",
		"primary:EXPOSE", "warning:8080", "primary:RUN", "foreground:python3 -m x 2nd"}
	var text strings.Builder
	for _, s := range segs {
		text.WriteString(s.(*widget.TextSegment).Text)
	}
	if text.String() != src {
		t.Fatalf("colouring changed the text: %q", text.String())
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("segments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConceptsExplainOnHover(t *testing.T) {
	test.NewTempApp(t)
	c := NewConcept("layer")
	w := test.NewTempWindow(t, c)
	w.Resize(fyne.NewSize(400, 300))
	if c.Showing() {
		t.Fatal("pop-up before hovering")
	}
	c.MouseIn(nil)
	if !c.Showing() || !strings.Contains(c.Explanation(), "build step") {
		t.Fatal("hovering shows no explanation")
	}
	c.MouseOut()
	test.Tap(c)
	if !c.Showing() {
		t.Fatal("tapping shows no explanation")
	}
	for _, term := range []string{"image", "layer", "tag", "container", "registry"} {
		if Concepts[term] == "" {
			t.Errorf("no explanation of %s", term)
		}
	}
}

func TestPluralAndWhere(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{app.Plural(1, "image", "images"), "1 image"},
		{app.Plural(0, "image", "images"), "0 images"},
		{app.Plural(3, "layer", "layers"), "3 layers"},
		{searchedWhere("nginx"), "on Docker Hub"},
		{searchedWhere("bitnami/nginx"), "on Docker Hub"},
		{searchedWhere("127.0.0.1:5000"), "in 127.0.0.1:5000"},
		{searchedWhere("ghcr.io/owner"), "in ghcr.io"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestShortReason(t *testing.T) {
	for _, tc := range []struct{ reason, instruction, want string }{
		{"Reran because app.py changed (COPY . /app, line 6)", "COPY . /app", "app.py changed"},
		{"Reran because ARG VERSION changed from 1 to 2 (RUN make (x), line 3)", "RUN make (x)", "ARG VERSION changed from 1 to 2"},
		{"", "RUN x", ""},
	} {
		if got := shortReason(tc.reason, tc.instruction); got != tc.want {
			t.Errorf("shortReason(%q) = %q, want %q", tc.reason, got, tc.want)
		}
	}
}
