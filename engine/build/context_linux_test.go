package build

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerignore"
)

// The builder reads the Dockerfile and .dockerignore from the context it
// was given and nowhere else: an absolute name, ../ and symlinks resolve
// inside the context, never to a file of the engine's host.
func TestDockerfileStaysInTheContext(t *testing.T) {
	host, _ := os.ReadFile("/etc/passwd")
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		file  string
	}{
		{"absolute name", func(string) {}, "/etc/passwd"},
		{"climbing name", func(string) {}, "../../../../../../etc/passwd"},
		{"symlink to an absolute path", func(dir string) { os.Symlink("/etc/passwd", filepath.Join(dir, "Dockerfile")) }, "Dockerfile"},
		{"symlink that climbs", func(dir string) { os.Symlink("../../../../../../../etc/passwd", filepath.Join(dir, "Dockerfile")) }, "Dockerfile"},
	} {
		dir := t.TempDir()
		tc.setup(dir)
		data, err := readDockerfile(dir, tc.file)
		if len(host) > 0 && strings.Contains(string(data), string(host[:min(len(host), 20)])) {
			t.Fatalf("%s: the builder read the host's /etc/passwd", tc.name)
		}
		if !errors.Is(err, engine.ErrInvalidArgument) {
			t.Errorf("%s: %v, want the Dockerfile not found in the context", tc.name, err)
		}
	}
	// A symlink that stays inside is followed.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "docker"), 0o755)
	os.WriteFile(filepath.Join(dir, "docker", "Dockerfile.real"), []byte("FROM scratch\n"), 0o644)
	os.Symlink("docker/Dockerfile.real", filepath.Join(dir, "Dockerfile"))
	if data, err := readDockerfile(dir, "Dockerfile"); err != nil || string(data) != "FROM scratch\n" {
		t.Fatalf("a symlink inside the context: %q %v", data, err)
	}
	// .dockerignore likewise.
	os.Symlink("/etc/passwd", filepath.Join(dir, ".dockerignore"))
	if pm, err := dockerignore.Read(dir, "Dockerfile"); err != nil || pm != nil {
		t.Fatalf("a .dockerignore symlinked out of the context was read: %v %v", pm, err)
	}
}
