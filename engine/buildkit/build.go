package buildkit

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/buildcontext"
	"github.com/berth-dev/berth/engine/dockerignore"
	"github.com/docker/go-units"
	controlapi "github.com/moby/buildkit/api/services/control"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/filesync"
	"github.com/moby/buildkit/session/secrets"
	"github.com/moby/buildkit/session/sshforward"
	"github.com/moby/buildkit/session/upload"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// solve runs the Dockerfile frontend for job j with Berth's builder: the
// Dockerfile and the context come from the client's session, the image
// goes into the engine's store under the names the job's exporters give.
// It returns the result's ref by platform (one, keyed "" or its platform,
// unless several were asked for), which the client hands back on Return.
func (s *Server) solve(ctx context.Context, j *job, frontend string, opts map[string]string) (map[string]string, error) {
	if frontend != "dockerfile.v0" {
		return nil, status.Errorf(codes.Unimplemented, "Berth builds Dockerfiles with its own builder: the %q frontend is not supported", frontend)
	}
	if id := opts["requestid"]; id != "" {
		return nil, status.Errorf(codes.Unimplemented, "Berth's builder does not answer %s (docker build --call) yet; --check it does", id)
	}
	bo, err := buildOptions(opts)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	j.mu.Lock()
	sessionID := j.solve.Session
	bo.Tags = tagsOf(j.solve)
	j.mu.Unlock()
	caller, err := s.sessions.Get(ctx, sessionID, false)
	if err != nil {
		return nil, fmt.Errorf("the client's session %s: %w", sessionID, err)
	}

	bo.Secret, bo.SSH = sessionSecret(caller), sessionSSH(caller)
	v := newVertices(j.progress, j.ref)
	filename := cmp.Or(opts["filename"], "Dockerfile")
	if filepath.Base(filename) != filename {
		return nil, status.Errorf(codes.InvalidArgument, "the Dockerfile's name %q is not a file name", filename)
	}
	definition := v.digest("dockerfile")
	remote := opts["context"] // a URL (docker build URL), or a tarball on stdin
	dockerfileFromClient := remote == "" || opts["dockerfilekey"] == "dockerfile"
	var ignoreBeside []byte // <Dockerfile>.dockerignore, read beside the Dockerfile
	if dockerfileFromClient {
		if bo.DockerfileData, ignoreBeside, err = receiveDockerfile(ctx, caller, v, filename); err != nil {
			return nil, err
		}
	}
	bo.ContextDir, err = s.b.ContextDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bo.ContextDir)
	bo.Dockerfile = filename
	got, err := s.receiveContext(ctx, caller, v, remote, bo.ContextDir, filename, ignoreBeside)
	if err != nil {
		return nil, err
	}
	bo.ContextDir = got.Dir
	if got.Dockerfile != nil && !dockerfileFromClient {
		bo.DockerfileData = got.Dockerfile
	}
	release, err := s.receiveNamedContexts(ctx, caller, v, bo.NamedContexts)
	defer release()
	if err != nil {
		return nil, err
	}
	s.importCache(ctx, j, caller, v)
	return s.buildPlatforms(ctx, j, bo, strings.Split(opts["platform"], ","), definition)
}

// receiveDockerfile fetches the Dockerfile (and a <Dockerfile>.dockerignore
// beside it) from the client's session.
func receiveDockerfile(ctx context.Context, caller session.Caller, v *vertices, filename string) (dockerfile, ignoreBeside []byte, err error) {
	err = v.run("dockerfile", "[internal] load build definition from "+filename, func(d string) error {
		dir, err := os.MkdirTemp("", "berth-dockerfile-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := filesync.FSSync(ctx, caller, filesync.FSSendRequestOpt{Name: "dockerfile", IncludePatterns: []string{filename, filename + ".dockerignore"}, DestDir: dir}); err != nil {
			return fmt.Errorf("receive the Dockerfile: %w", err)
		}
		if dockerfile, err = os.ReadFile(filepath.Join(dir, filename)); err != nil {
			return fmt.Errorf("the client sent no Dockerfile %s: %w", filename, engine.ErrInvalidArgument)
		}
		ignoreBeside, _ = os.ReadFile(filepath.Join(dir, filename+".dockerignore"))
		v.log(d, 1, fmt.Sprintf("transferring dockerfile: %d B done\n", len(dockerfile)))
		return nil
	})
	return dockerfile, ignoreBeside, err
}

// receiveContext fills dir with the build context: the client's folder
// through its session (what .dockerignore leaves out never travels), a
// tarball it uploads (docker build - < context.tar), or a URL the engine
// fetches (docker build URL).
func (s *Server) receiveContext(ctx context.Context, caller session.Caller, v *vertices, remote, dir, dockerfile string, ignoreBeside []byte) (buildcontext.Remote, error) {
	got := buildcontext.Remote{Dir: dir}
	err := v.run("context", "[internal] load build context", func(d string) error {
		switch {
		case strings.HasPrefix(remote, "http://buildkit-session/"):
			u, err := url.Parse(remote)
			if err != nil {
				return err
			}
			up, err := upload.New(ctx, caller, u)
			if err != nil {
				return fmt.Errorf("receive the build context: %w", err)
			}
			pr, pw := io.Pipe()
			go func() { _, err := up.WriteTo(pw); pw.CloseWithError(err) }()
			err = buildcontext.Unpack(pr, dir)
			pr.CloseWithError(err)
			return err
		case remote != "":
			v.log(d, 1, "fetching "+remote+"\n")
			var err error
			got, err = buildcontext.Fetch(ctx, remote, dir)
			return err
		}
		excludes, err := s.ignorePatterns(ctx, caller, dockerfile, ignoreBeside)
		if err != nil {
			return err
		}
		var sent int
		progress := func(n int, last bool) { sent = n }
		if err := filesync.FSSync(ctx, caller, filesync.FSSendRequestOpt{Name: "context", ExcludePatterns: excludes, DestDir: dir, ProgressCb: progress}); err != nil {
			return fmt.Errorf("receive the build context: %w", err)
		}
		v.log(d, 1, fmt.Sprintf("transferring context: %s done\n", units.HumanSize(float64(sent))))
		return nil
	})
	return got, err
}

// receiveNamedContexts fetches the folders --build-context names: the
// client's through its session ("local:name"), or a URL, each into a
// folder of its own, which release removes. The map's Dir then holds
// that folder.
func (s *Server) receiveNamedContexts(ctx context.Context, caller session.Caller, v *vertices, named map[string]engine.NamedContext) (release func(), err error) {
	var dirs []string
	release = func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}
	for name, nc := range named {
		if nc.Dir == "" {
			continue
		}
		dir, err := s.b.ContextDir()
		if err != nil {
			return release, err
		}
		dirs = append(dirs, dir)
		source := nc.Dir
		err = v.run("context "+name, "[internal] load build context "+name, func(d string) error {
			if local, ok := strings.CutPrefix(source, "local:"); ok {
				return filesync.FSSync(ctx, caller, filesync.FSSendRequestOpt{Name: local, DestDir: dir})
			}
			got, err := buildcontext.Fetch(ctx, source, dir)
			dir = got.Dir
			return err
		})
		named[name] = engine.NamedContext{Dir: dir}
		if err != nil {
			return release, fmt.Errorf("--build-context %s: %w", name, err)
		}
	}
	return release, nil
}

// buildPlatforms builds once per platform ("" : this machine's) and
// returns the result's ref by platform. Several platforms (--platform
// a,b) make images only an index holds together, so none is named in the
// store.
func (s *Server) buildPlatforms(ctx context.Context, j *job, bo engine.BuildOptions, platforms []string, definition string) (map[string]string, error) {
	if len(platforms) > 1 {
		bo.Tags = nil
	}
	refs := map[string]string{}
	for _, p := range platforms {
		v := newVertices(j.progress, j.ref)
		if len(platforms) > 1 {
			v.platform = p
		}
		po := bo
		po.Platform = p
		res, err := s.b.Builder.Build(ctx, po, func(ev engine.BuildEvent) { v.event(ev, definition) })
		if err != nil {
			return nil, err
		}
		v.run("export "+p, "exporting to image", func(d string) error {
			v.log(d, 1, "writing image "+res.ImageID+" done\n")
			for _, t := range res.Tags {
				v.log(d, 1, "naming to "+t+" done\n")
			}
			return nil
		})
		ref := newRef()
		j.mu.Lock()
		j.images[ref] = built{BuildResult: res, platform: p}
		j.mu.Unlock()
		refs[p] = ref
	}
	return refs, nil
}

// sessionSecret reads build secrets (docker build --secret) from the
// client's session.
func sessionSecret(caller session.Caller) func(context.Context, string) ([]byte, error) {
	return func(ctx context.Context, id string) ([]byte, error) {
		data, err := secrets.GetSecret(ctx, caller, id)
		if errors.Is(err, secrets.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", err, engine.ErrNotFound)
		}
		return data, err
	}
}

// sessionSSH forwards the client's SSH agent (docker build --ssh) through
// its session, to a socket on the engine's side.
func sessionSSH(caller session.Caller) func(context.Context, string) (string, func(), error) {
	return func(ctx context.Context, id string) (string, func(), error) {
		if err := sshforward.CheckSSHID(ctx, caller, id); err != nil {
			if code := status.Code(err); code == codes.NotFound || code == codes.Unimplemented { // status.Code looks through wrapping
				return "", nil, fmt.Errorf("no SSH agent %q forwarded (docker build --ssh %s): %w", id, id, engine.ErrNotFound)
			}
			return "", nil, err
		}
		sock, closer, err := sshforward.MountSSHSocket(ctx, caller, sshforward.SocketOpt{ID: id, Mode: 0o600})
		if err != nil {
			return "", nil, err
		}
		return sock, func() { closer() }, nil
	}
}

// ignorePatterns reads the context's ignore rules first, as BuildKit does,
// so that what they leave out never travels: <Dockerfile>.dockerignore
// beside the Dockerfile (beside, already received), else the context's
// .dockerignore, found and checked as every other reader does
// (dockerignore.Patterns).
func (s *Server) ignorePatterns(ctx context.Context, caller session.Caller, filename string, beside []byte) ([]string, error) {
	dir, err := os.MkdirTemp("", "berth-dockerignore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if beside != nil {
		if err := os.WriteFile(filepath.Join(dir, filename+".dockerignore"), beside, 0o600); err != nil {
			return nil, err
		}
	} else if err := filesync.FSSync(ctx, caller, filesync.FSSendRequestOpt{Name: "context", IncludePatterns: []string{".dockerignore"}, DestDir: dir}); err != nil {
		return nil, fmt.Errorf("receive .dockerignore: %w", err)
	}
	return dockerignore.Patterns(dir, filename)
}

// refusedOpts are the frontend options Berth's builder cannot honour yet:
// refused with a clear error rather than dropped.
var refusedOpts = map[string]string{
	"add-hosts":     "--add-host",
	"shm-size":      "--shm-size",
	"ulimit":        "--ulimit",
	"cgroup-parent": "--cgroup-parent",
	"hostname":      "--hostname",
}

// buildOptions reads the Dockerfile frontend's options (what buildx sends
// for docker build's flags) into the builder's.
func buildOptions(opts map[string]string) (engine.BuildOptions, error) {
	bo := engine.BuildOptions{Target: opts["target"], Pull: opts["image-resolve-mode"] == "pull"}
	_, bo.NoCache = opts["no-cache"]
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v := opts[k]
		switch {
		case strings.HasPrefix(k, "build-arg:"):
			if bo.BuildArgs == nil {
				bo.BuildArgs = map[string]*string{}
			}
			bo.BuildArgs[strings.TrimPrefix(k, "build-arg:")] = &v
		case strings.HasPrefix(k, "label:"):
			if bo.Labels == nil {
				bo.Labels = map[string]string{}
			}
			bo.Labels[strings.TrimPrefix(k, "label:")] = v
		case strings.HasPrefix(k, "context:"): // --build-context: solve fetches folders
			name := strings.TrimPrefix(k, "context:")
			if bo.NamedContexts == nil {
				bo.NamedContexts = map[string]engine.NamedContext{}
			}
			switch {
			case strings.HasPrefix(v, "docker-image://"):
				bo.NamedContexts[name] = engine.NamedContext{Image: strings.TrimPrefix(v, "docker-image://")}
			case strings.HasPrefix(v, "local:"), buildcontext.IsRemote(v):
				bo.NamedContexts[name] = engine.NamedContext{Dir: v} // a folder to fetch
			default:
				return bo, fmt.Errorf("Berth's builder takes --build-context %s=%s only as docker-image://, a folder or a URL", name, v)
			}
		case k == "platform": // solve builds each
		case k == "network":
			if v != "" && v != "default" {
				return bo, fmt.Errorf("Berth's builder runs RUN steps on its own network; --network %s is not supported yet", v)
			}
		case refusedOpts[k] != "" && v != "":
			return bo, fmt.Errorf("Berth's builder does not support %s yet", refusedOpts[k])
		}
	}
	return bo, nil
}

// controlWarning is a frontend's warning as a status message.
func controlWarning(w *gwpb.WarnRequest) *controlapi.StatusResponse {
	return &controlapi.StatusResponse{Warnings: []*controlapi.VertexWarning{{Vertex: w.Digest, Level: w.Level, Short: w.Short, Detail: w.Detail, Url: w.Url, Info: w.Info, Ranges: w.Ranges}}}
}

func newRef() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
