package buildcontext

import (
	"context"
	"errors"
	"testing"

	"github.com/berth-dev/berth/engine"
)

func TestIsGit(t *testing.T) {
	for s, want := range map[string]bool{
		"https://github.com/docker-library/hello-world.git":        true,
		"https://github.com/docker-library/hello-world.git#main:x": true,
		"github.com/docker-library/hello-world":                    true,
		"git@github.com:docker-library/hello-world":                true,
		"git://example.com/repo":                                   true,
		"https://example.com/context.tar.gz":                       false,
		"https://example.com/Dockerfile":                           false,
		"./local/dir":                                              false,
	} {
		if got := IsGit(s); got != want {
			t.Errorf("IsGit(%q) = %v, want %v", s, got, want)
		}
	}
}

// Nothing a client names reaches git's command line as an option.
func TestFetchGitRefusesOptions(t *testing.T) {
	for _, url := range []string{
		"https://example.com/repo.git#--upload-pack=touch /tmp/pwned",
		"https://example.com/repo.git#-b:sub",
	} {
		if _, err := FetchGit(context.Background(), url, t.TempDir(), false); !errors.Is(err, engine.ErrInvalidArgument) {
			t.Errorf("FetchGit(%q) = %v, want a refusal", url, err)
		}
	}
}
