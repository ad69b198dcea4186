package client

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerignore"
)

// ContextTar checks a build context directory and streams it as the tar
// `POST /build` takes, the way the docker CLI does: files .dockerignore
// excludes are left out (the Dockerfile and .dockerignore always go), a
// file or directory the user cannot read fails before anything is sent,
// naming it, and symlinks travel as symlinks, never followed.
func ContextTar(dir, dockerfile string) (io.ReadCloser, error) {
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory: %w", dir, engine.ErrInvalidArgument)
	}
	if _, err := os.Stat(filepath.Join(dir, dockerfile)); err != nil {
		return nil, fmt.Errorf("cannot find the Dockerfile %q in the build context %s: %w", dockerfile, dir, engine.ErrInvalidArgument)
	}
	ignore, err := dockerignore.Read(dir, dockerfile)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{filepath.ToSlash(dockerfile): true, ".dockerignore": true, filepath.ToSlash(dockerfile) + ".dockerignore": true}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("error checking context: no permission to read from '%s': %w", p, engine.ErrInvalidArgument)
			}
			return err
		}
		if rel == "." {
			return nil
		}
		if ignore != nil && !keep[rel] {
			if m, _ := ignore.MatchesOrParentMatches(rel); m {
				if d.IsDir() && !ignore.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				if errors.Is(err, fs.ErrPermission) {
					return fmt.Errorf("error checking context: no permission to read from '%s': %w", p, engine.ErrInvalidArgument)
				}
				return fmt.Errorf("error checking context: %w", err)
			}
			f.Close()
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, dir, files)) }()
	return pr, nil
}

func writeContext(w io.Writer, dir string, files []string) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, 256<<10)
	for _, rel := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			continue // sockets and the like are not context
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		// Ownership is the builder's business (COPY makes files root's).
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(tw, io.LimitReader(f, fi.Size()), buf)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// buildMessage is one message of the /build stream. Berth's engine adds
// its structured event; other engines send the text only.
type buildMessage struct {
	Stream      string `json:"stream"`
	ErrorDetail *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errorDetail"`
	Error string             `json:"error"`
	Aux   json.RawMessage    `json:"aux"`
	Event *engine.BuildEvent `json:"berthEvent"`
}

// Build sends opts.ContextDir to the engine and builds it there. Events
// come as the engine reports them; an engine other than Berth's sends
// text only, which arrives as BuildMessage events.
func (c *Client) Build(ctx context.Context, opts engine.BuildOptions, fn func(engine.BuildEvent)) (engine.BuildResult, error) {
	if fn == nil {
		fn = func(engine.BuildEvent) {}
	}
	body, err := ContextTar(opts.ContextDir, opts.Dockerfile)
	if err != nil {
		return engine.BuildResult{}, err
	}
	defer body.Close()
	q := url.Values{"t": opts.Tags, "rm": {"1"}}
	if opts.Dockerfile != "" {
		q.Set("dockerfile", filepath.ToSlash(opts.Dockerfile))
	}
	if opts.Target != "" {
		q.Set("target", opts.Target)
	}
	if opts.NoCache {
		q.Set("nocache", "1")
	}
	if opts.Pull {
		q.Set("pull", "1")
	}
	if len(opts.BuildArgs) > 0 {
		b, _ := json.Marshal(opts.BuildArgs)
		q.Set("buildargs", string(b))
	}
	if len(opts.Labels) > 0 {
		b, _ := json.Marshal(opts.Labels)
		q.Set("labels", string(b))
	}
	resp, err := c.do(ctx, http.MethodPost, "/build", q, body)
	if err != nil {
		return engine.BuildResult{}, fmt.Errorf("build: %w", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var res engine.BuildResult
	for {
		var m buildMessage
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, fmt.Errorf("build: the engine's answer was cut off: %w", err)
		}
		if m.ErrorDetail != nil || m.Error != "" {
			msg, code := m.Error, 0
			if m.ErrorDetail != nil {
				msg, code = m.ErrorDetail.Message, m.ErrorDetail.Code
			}
			if m.Event != nil {
				fn(*m.Event)
				se := &engine.BuildStepError{Step: m.Event.Step, Line: m.Event.Line, Instruction: m.Event.Instruction, Err: errors.New(msg)}
				if strings.Contains(msg, "returned a non-zero code") {
					se.ExitCode, se.Command = code, commandOf(msg)
				}
				return res, se
			}
			return res, fmt.Errorf("build: %s", msg)
		}
		if len(m.Aux) > 0 {
			var aux struct{ ID string }
			if json.Unmarshal(m.Aux, &aux) == nil && aux.ID != "" {
				res.ImageID = aux.ID
			}
			continue
		}
		switch {
		case m.Event != nil:
			fn(*m.Event)
		case m.Stream != "":
			fn(engine.BuildEvent{Kind: engine.BuildMessage, Output: m.Stream})
		}
	}
	if res.ImageID == "" {
		return res, fmt.Errorf("build: the engine ended the build without an image")
	}
	res.Tags = opts.Tags
	return res, nil
}

// commandOf takes the command out of "The command '…' returned a
// non-zero code: N".
func commandOf(msg string) string {
	_, rest, ok := strings.Cut(msg, "The command '")
	if !ok {
		return ""
	}
	cmd, _, _ := strings.Cut(rest, "' returned a non-zero code")
	return cmd
}

// PruneCache empties the engine's build cache.
func (c *Client) PruneCache(ctx context.Context, all bool) (engine.BuildCacheReport, error) {
	q := url.Values{}
	if all {
		q.Set("all", "1")
	}
	resp, err := c.do(ctx, http.MethodPost, "/build/prune", q, nil)
	if err != nil {
		return engine.BuildCacheReport{}, fmt.Errorf("build cache prune: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		CachesDeleted  []string
		SpaceReclaimed int64
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return engine.BuildCacheReport{}, fmt.Errorf("build cache prune: %w", err)
	}
	return engine.BuildCacheReport{Deleted: out.CachesDeleted, Reclaimed: out.SpaceReclaimed}, nil
}

var _ engine.Builder = (*Client)(nil)
