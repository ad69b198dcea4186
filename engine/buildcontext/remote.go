// Package buildcontext gets a build's context into a folder: an uploaded
// tarball (the classic API, docker build - < ctx.tar) or a remote one
// (docker build URL): a Git repository, a tarball over HTTP(S), or a
// Dockerfile alone. Nothing it writes lands outside the folder.
package buildcontext

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	securejoin "github.com/cyphar/filepath-securejoin"
)

// Remote is a fetched context.
type Remote struct {
	// Dir is the context's root: the folder given, or the sub-folder a
	// Git URL's "#ref:dir" names.
	Dir string
	// Dockerfile is the Dockerfile when the URL was one alone (the
	// context is then empty); nil otherwise.
	Dockerfile []byte
}

// IsRemote says whether a docker build context names a remote one.
func IsRemote(s string) bool {
	return IsGit(s) || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

var gitSSH = regexp.MustCompile(`^[\w.-]+@[\w.-]+:`)

// IsGit says whether s names a Git repository, as docker build reads it:
// git://, git@host:, github.com/…, or an http(s) URL ending in .git
// (before any #ref:dir).
func IsGit(s string) bool {
	repo, _, _ := strings.Cut(s, "#")
	return strings.HasPrefix(s, "git://") || strings.HasPrefix(s, "github.com/") || gitSSH.MatchString(s) ||
		((strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) && strings.HasSuffix(repo, ".git"))
}

// Fetch gets the context url names into dir.
func Fetch(ctx context.Context, url, dir string) (Remote, error) {
	if IsGit(url) {
		return FetchGit(ctx, url, dir, false)
	}
	return fetchHTTP(ctx, url, dir)
}

// FetchGit clones the repository (its ref, one commit deep, submodules
// too), keeping its .git folder only when keepGitDir says so, as BuildKit
// does.
func FetchGit(ctx context.Context, url, dir string, keepGitDir bool) (Remote, error) {
	repo, fragment, _ := strings.Cut(url, "#")
	ref, sub, _ := strings.Cut(fragment, ":")
	if strings.HasPrefix(repo, "github.com/") {
		repo = "https://" + repo
	}
	// What the client names reaches git's command line: nothing of it may
	// read as an option.
	if strings.HasPrefix(repo, "-") || strings.HasPrefix(ref, "-") {
		return Remote{}, fmt.Errorf("the build context %s: a repository or ref may not begin with '-': %w", url, engine.ErrInvalidArgument)
	}
	if _, err := exec.LookPath("git"); err != nil {
		return Remote{}, fmt.Errorf("building from a Git repository needs git on the engine's machine (sudo apt install git): %w", engine.ErrNotSupported)
	}
	git := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		// Only network transports, for the repository and its submodules
		// alike: never a file:// path on the engine's machine, nor ext::.
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "GIT_ALLOW_PROTOCOL=https:http:git:ssh")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %s: %w", args[0], strings.TrimSpace(string(out)), engine.ErrInvalidArgument)
		}
		return nil
	}
	// init and fetch take a branch, a tag or a commit alike (clone
	// --branch takes no commit).
	steps := [][]string{{"init", "-q"}, {"remote", "add", "origin", repo},
		{"fetch", "-q", "--depth", "1", "origin", cmp.Or(ref, "HEAD")}, {"checkout", "-q", "FETCH_HEAD"},
		{"submodule", "update", "-q", "--init", "--recursive", "--depth", "1"}}
	for _, s := range steps {
		if err := git(s...); err != nil {
			return Remote{}, fmt.Errorf("the build context %s: %w", url, err)
		}
	}
	if !keepGitDir {
		if err := os.RemoveAll(filepath.Join(dir, ".git")); err != nil {
			return Remote{}, err
		}
	}
	root := dir
	if sub != "" {
		p, err := securejoin.SecureJoin(dir, sub)
		if err != nil {
			return Remote{}, err
		}
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			return Remote{}, fmt.Errorf("the build context %s: the repository has no folder %s: %w", url, sub, engine.ErrInvalidArgument)
		}
		root = p
	}
	return Remote{Dir: root}, nil
}

// maxDockerfile bounds a Dockerfile fetched alone.
const maxDockerfile = 1 << 20

// fetchHTTP downloads a tarball (plain or compressed) and unpacks it, or
// takes what is no archive as the Dockerfile, as docker build URL does.
func fetchHTTP(ctx context.Context, url, dir string) (Remote, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Remote{}, fmt.Errorf("the build context %s: %w: %w", url, err, engine.ErrInvalidArgument)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Remote{}, fmt.Errorf("the build context %s: %w: %w", url, err, engine.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Remote{}, fmt.Errorf("the build context %s: the server answered %s: %w", url, resp.Status, engine.ErrInvalidArgument)
	}
	body := bufio.NewReaderSize(resp.Body, 1<<16)
	if isArchive(body) {
		return Remote{Dir: dir}, Unpack(body, dir)
	}
	data, err := io.ReadAll(io.LimitReader(body, maxDockerfile+1))
	if err != nil {
		return Remote{}, fmt.Errorf("the build context %s: %w", url, err)
	}
	if len(data) > maxDockerfile {
		return Remote{}, fmt.Errorf("the build context %s is neither an archive nor a Dockerfile (over 1 MB of text): %w", url, engine.ErrInvalidArgument)
	}
	return Remote{Dir: dir, Dockerfile: data}, nil
}

// isArchive says whether what r starts with is a tar, plain or
// compressed, without consuming it.
func isArchive(r *bufio.Reader) bool {
	head, _ := r.Peek(1 << 10)
	if len(head) == 0 {
		return false
	}
	if iox.Detect(head) != iox.None {
		return true
	}
	// A tar header's "ustar" magic sits at byte 257.
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}
