package buildkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	controlapi "github.com/moby/buildkit/api/services/control"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/bklog"
	"github.com/sirupsen/logrus"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
)

// Builder builds a Dockerfile (Berth's builder), and shows an image's
// files for an export.
type Builder interface {
	Build(ctx context.Context, opts engine.BuildOptions, fn func(engine.BuildEvent)) (engine.BuildResult, error)
	WithImageRoot(ctx context.Context, image string, fn func(root string) error) error
	ExportCache(ctx context.Context, keys []string, name string) (string, error)
	ImportCache(image string) (int, error)
	WithInlineCache(ctx context.Context, image string, keys []string, names []string) (string, error)
	CacheUsage() []engine.BuildCacheUsage
	PruneCache(ctx context.Context, all bool) (engine.BuildCacheReport, error)
}

// Backend is what the server needs of the engine.
type Backend struct {
	Builder Builder
	// ContextDir makes a folder for a build's context; the caller removes it.
	ContextDir func() (string, error)
	// Push uploads a named image (--push, --cache-to); Pull fetches one
	// (--cache-from), and Remove drops its name.
	Push   func(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error)
	Pull   func(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error)
	Remove func(ctx context.Context, name string) error
	// PushIndex uploads images (ID by platform) as one multi-platform
	// image (--platform a,b --push).
	PushIndex func(ctx context.Context, ref string, images map[string]string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error)
	// Save writes images as docker save does (--output type=docker).
	Save func(ctx context.Context, names []string, w io.Writer) error
	// Image is a stored image (--output type=oci); Put stores one,
	// unnamed (a --cache-from type=local folder's).
	Image func(id string) (v1.Image, error)
	Put   func(ctx context.Context, img v1.Image) (string, error)
}

// Server is BuildKit's API over a Builder. Its two handlers are the
// engine API's /session and /grpc.
type Server struct {
	b        Backend
	version  string
	sessions *session.Manager
	grpc     *grpc.Server
	h2       http2.Server

	mu   sync.Mutex
	jobs map[string]*job
}

// New serves BuildKit's API over b. version is the engine's, which buildx
// shows as the builder's BuildKit version.
func New(b Backend, version string) (*Server, error) {
	sm, err := session.NewManager()
	if err != nil {
		return nil, fmt.Errorf("buildkit: %w", err)
	}
	s := &Server{b: b, version: version, sessions: sm, jobs: map[string]*job{}}
	s.grpc = grpc.NewServer()
	controlapi.RegisterControlServer(s.grpc, control{s: s})
	gwpb.RegisterLLBBridgeServer(s.grpc, gateway{s: s})
	return s, nil
}

// ServeSession is POST /session: the client's side of a build (its files
// and credentials), over the connection it upgrades to HTTP/2.
func (s *Server) ServeSession(w http.ResponseWriter, r *http.Request) {
	// The session lives as long as its connection, not the request.
	if err := s.sessions.HandleHTTPRequest(quietContext(r.Context()), w, r); err != nil {
		http.Error(w, "buildkit session: "+err.Error(), http.StatusBadRequest)
	}
}

// ServeGRPC is POST /grpc: BuildKit's services, over the connection the
// client upgrades to HTTP/2 (h2c), as dockerd serves them.
func (s *Server) ServeGRPC(w http.ResponseWriter, r *http.Request) {
	if proto := r.Header.Get("Upgrade"); proto != "h2c" {
		http.Error(w, fmt.Sprintf("buildkit: upgrade to h2c expected, not %q", proto), http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "buildkit: the connection cannot be taken over", http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
	resp.Header.Set("Connection", "Upgrade")
	resp.Header.Set("Upgrade", "h2c")
	if err := resp.Write(conn); err != nil {
		conn.Close()
		return
	}
	s.h2.ServeConn(conn, &http2.ServeConnOpts{Context: quietContext(r.Context()), Handler: s.grpc, BaseConfig: quietHTTP})
}

// quietHTTP keeps HTTP/2's connection-level chatter out of the engine's
// log: buildx opens /grpc and closes it at once to see whether the engine
// speaks BuildKit, every time it starts.
var quietHTTP = &http.Server{ErrorLog: log.New(io.Discard, "", 0)}

// quietContext is a connection's context, outliving its request, where
// BuildKit's code logs nothing: a session that ends as every build ends
// (the client hangs up) makes its health check log errors otherwise.
func quietContext(ctx context.Context) context.Context {
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	return bklog.WithLogger(context.WithoutCancel(ctx), logrus.NewEntry(discard))
}

// job is one build, known by the ref the client gave it: its Control.Solve
// call, the gateway calls made for it, and its progress.
type job struct {
	ref        string
	registered chan struct{} // closed once Control.Solve has arrived
	solve      *controlapi.SolveRequest
	returned   chan *gwpb.ReturnRequest
	progress   *progress

	mu     sync.Mutex
	images map[string]built // by the result ref handed to the client
}

// built is one image a job made, for a platform ("" : this machine's,
// in a single-platform build).
type built struct {
	engine.BuildResult
	platform string
}

// jobFor is the job of ref, made on the first call that names it: the
// client starts Solve, Status and its gateway at once, in any order.
func (s *Server) jobFor(ref string) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[ref]
	if !ok {
		j = &job{ref: ref, registered: make(chan struct{}), returned: make(chan *gwpb.ReturnRequest, 1), progress: newProgress(), images: map[string]built{}}
		s.jobs[ref] = j
	}
	return j
}

// finish ends the job's progress; the job is forgotten a little later,
// so that a Status call arriving after the end still reads it all.
func (s *Server) finish(j *job) {
	j.progress.close()
	time.AfterFunc(time.Minute, func() {
		s.mu.Lock()
		delete(s.jobs, j.ref)
		s.mu.Unlock()
	})
}

// registeredJob is the job a gateway call names in its metadata, once its
// Solve has arrived.
func (s *Server) registeredJob(ctx context.Context, ref string) (*job, error) {
	if ref == "" {
		return nil, errors.New("buildkit: the call names no build")
	}
	j := s.jobFor(ref)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case <-j.registered:
		return j, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("buildkit: no build %s was started", ref)
	}
}
