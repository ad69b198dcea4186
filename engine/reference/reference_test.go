package reference

import (
	"errors"
	"testing"

	"github.com/berth-dev/berth/engine"
)

func TestParseReferenceCanonicalAndFamiliar(t *testing.T) {
	const dg = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct {
		in, canonical, familiar string
	}{
		{"nginx", "docker.io/library/nginx:latest", "nginx:latest"},
		{"nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27"},
		{"library/nginx", "docker.io/library/nginx:latest", "nginx:latest"},
		{"docker.io/nginx", "docker.io/library/nginx:latest", "nginx:latest"},
		{"index.docker.io/library/nginx:latest", "docker.io/library/nginx:latest", "nginx:latest"},
		{"me/app:v1", "docker.io/me/app:v1", "me/app:v1"},
		{"localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest"},
		{"127.0.0.1:5000/team/app:dev", "127.0.0.1:5000/team/app:dev", "127.0.0.1:5000/team/app:dev"},
		{"ghcr.io/owner/tool", "ghcr.io/owner/tool:latest", "ghcr.io/owner/tool:latest"},
		{"busybox@" + dg, "docker.io/library/busybox@" + dg, "busybox@" + dg},
		{"busybox:1.36@" + dg, "docker.io/library/busybox@" + dg, "busybox@" + dg},
		{"localhost:5000/x@" + dg, "localhost:5000/x@" + dg, "localhost:5000/x@" + dg},
	}
	for _, tt := range tests {
		ref, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := Canonical(ref); got != tt.canonical {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.canonical)
		}
		if got := Familiar(Canonical(ref)); got != tt.familiar {
			t.Errorf("Familiar(%q) = %q, want %q", tt.in, got, tt.familiar)
		}
	}
}

func TestParseReferenceRejectsBadNames(t *testing.T) {
	for _, in := range []string{"", "UPPER/case", "bad name", "x:", "x@sha256:short", "-leading"} {
		_, err := Parse(in)
		if !errors.Is(err, engine.ErrInvalidReference) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalidReference", in, err)
		}
	}
}

func TestRepo(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io/library/nginx:latest":   "docker.io/library/nginx",
		"localhost:5000/x:v1":              "localhost:5000/x",
		"localhost:5000/x@sha256:abc":      "localhost:5000/x",
		"localhost:5000/x":                 "localhost:5000/x",
		"docker.io/library/nginx@sha256:0": "docker.io/library/nginx",
	} {
		if got := Repo(in); got != want {
			t.Errorf("Repo(%q) = %q, want %q", in, got, want)
		}
	}
}
