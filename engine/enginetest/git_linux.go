package enginetest

import (
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// gitHTTPBackend is git's own smart-HTTP server, Debian's path.
const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

// GitRepo makes a Git repository of files (name → content, one commit on
// branch), serves it over smart HTTP with git's own http-backend, as
// GitHub serves repositories, and returns its URL (ending in .git). The
// test skips, saying so, where git is not installed.
func GitRepo(t testing.TB, files map[string]string, branch string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed (Debian's git)")
	}
	if _, err := os.Stat(gitHTTPBackend); err != nil {
		t.Skipf("git's http-backend is not at %s", gitHTTPBackend)
	}
	src := t.TempDir()
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repos := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", branch}, {"add", "."}, {"commit", "-q", "-m", "files"}, {"clone", "-q", "--bare", src, filepath.Join(repos, "repo.git")}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	srv := httptest.NewServer(&cgi.Handler{Path: gitHTTPBackend, Env: []string{"GIT_PROJECT_ROOT=" + repos, "GIT_HTTP_EXPORT_ALL=1"}})
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git"
}
