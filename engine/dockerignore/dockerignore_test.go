package dockerignore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/berth-dev/berth/engine"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if pm, err := Read(dir, "Dockerfile"); pm != nil || err != nil {
		t.Fatalf("no file: %v %v", pm, err)
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\nsecret.env\nlogs/\n!logs/keep\n"), 0o644)
	pm, err := Read(dir, "Dockerfile")
	if err != nil || pm == nil {
		t.Fatal(pm, err)
	}
	for path, want := range map[string]bool{"secret.env": true, "logs/a": true, "logs/keep": false, "app.py": false} {
		if got, _ := pm.MatchesOrParentMatches(path); got != want {
			t.Errorf("%s: ignored %v, want %v", path, got, want)
		}
	}
	// Dockerfile.dev.dockerignore wins for Dockerfile.dev.
	os.WriteFile(filepath.Join(dir, "Dockerfile.dev.dockerignore"), []byte("app.py\n"), 0o644)
	pm, _ = Read(dir, "Dockerfile.dev")
	if got, _ := pm.MatchesOrParentMatches("app.py"); !got {
		t.Error("the Dockerfile's own .dockerignore was not read")
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("[\n"), 0o644)
	if _, err := Read(dir, ""); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("a broken pattern: %v", err)
	}
}

// Patterns finds the same file as Read and gives its patterns as written,
// for a sender to leave out; a broken one is refused as by Read.
func TestPatterns(t *testing.T) {
	dir := t.TempDir()
	if p, err := Patterns(dir, "Dockerfile"); p != nil || err != nil {
		t.Fatalf("no file: %v %v", p, err)
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\nsecret.env\n!logs/keep\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile.dev.dockerignore"), []byte("app.py\n"), 0o644)
	for dockerfile, want := range map[string][]string{"Dockerfile": {"secret.env", "!logs/keep"}, "Dockerfile.dev": {"app.py"}} {
		if got, err := Patterns(dir, dockerfile); err != nil || !slices.Equal(got, want) {
			t.Errorf("Patterns(%s) = %q, %v; want %q", dockerfile, got, err, want)
		}
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("[\n"), 0o644)
	if _, err := Patterns(dir, ""); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("a broken pattern: %v", err)
	}
}
