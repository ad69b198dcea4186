package reference

import (
	"fmt"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/google/go-containerregistry/pkg/name"
)

// Parse parses an image name the way docker does: "nginx" is
// docker.io/library/nginx:latest, "name@sha256:…" is a digest reference,
// and "localhost:5000/x" names a local registry. The error wraps
// engine.ErrInvalidReference.
func Parse(s string, opts ...name.Option) (name.Reference, error) {
	if s == "" {
		return nil, fmt.Errorf("empty image name: %w", engine.ErrInvalidReference)
	}
	// docker accepts "name:tag@digest" and ignores the tag; so do we.
	if at := strings.Index(s, "@"); at > 0 {
		if base := s[:at]; strings.LastIndex(base, ":") > strings.LastIndex(base, "/") {
			s = base[:strings.LastIndex(base, ":")] + s[at:]
		}
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, fmt.Errorf("%q: %w: %s", s, engine.ErrInvalidReference, lowerFirst(err.Error()))
	}
	// Docker's grammar wants every path component to start with a letter or
	// digit; ggcr is laxer, and a name docker refuses must not get in here.
	for _, part := range strings.Split(ref.Context().RepositoryStr(), "/") {
		if part == "" || !isAlnum(part[0]) || !isAlnum(part[len(part)-1]) {
			return nil, fmt.Errorf("%q: %w: path components must start and end with a letter or digit", s, engine.ErrInvalidReference)
		}
	}
	return ref, nil
}

// Canonical is the full form stored on disk: "docker.io/library/nginx:latest".
// ggcr names Docker Hub "index.docker.io"; docker and containerd say "docker.io".
func Canonical(ref name.Reference) string {
	repo := canonicalRepo(ref.Context())
	switch r := ref.(type) {
	case name.Digest:
		return repo + "@" + r.DigestStr()
	case name.Tag:
		return repo + ":" + r.TagStr()
	}
	return ref.String()
}

func canonicalRepo(repo name.Repository) string {
	reg := repo.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + repo.RepositoryStr()
}

// Familiar shortens a canonical name the way docker prints it:
// "docker.io/library/nginx:latest" → "nginx:latest",
// "docker.io/me/app:v1" → "me/app:v1"; other registries keep their host.
func Familiar(canonical string) string {
	if rest, ok := strings.CutPrefix(canonical, "docker.io/"); ok {
		if short, ok := strings.CutPrefix(rest, "library/"); ok && !strings.Contains(short, "/") {
			return short
		}
		return rest
	}
	return canonical
}

// Repo returns the canonical repository of a canonical tag or digest name.
func Repo(canonical string) string {
	if at := strings.Index(canonical, "@"); at >= 0 {
		return canonical[:at]
	}
	if colon := strings.LastIndex(canonical, ":"); colon > strings.LastIndex(canonical, "/") {
		return canonical[:colon]
	}
	return canonical
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
