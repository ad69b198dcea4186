package engine

import (
	"context"
	"fmt"
	"time"
)

// BuildOptions say what to build: a Dockerfile in a context directory.
type BuildOptions struct {
	ContextDir string
	// Dockerfile is the Dockerfile's path inside ContextDir ("Dockerfile"
	// when empty), like docker build -f.
	Dockerfile string
	// DockerfileData is the Dockerfile's text when it is not read from
	// ContextDir (BuildKit's clients send it apart from the context);
	// Dockerfile then only names it.
	DockerfileData []byte
	Tags           []string
	// BuildArgs are --build-arg values; a nil value takes the variable
	// from the engine's environment, as the docker CLI does.
	BuildArgs map[string]*string
	Target    string // the stage to build; empty: the last
	NoCache   bool
	Pull      bool // look for a newer base image even if one is stored
	Labels    map[string]string
	// NamedContexts are docker build --build-context's: a name that FROM,
	// COPY --from and RUN --mount=from= take for an image or a folder in
	// place of a stage or an image of that name.
	NamedContexts map[string]NamedContext
	// Platform is the platform to build for ("linux/arm64"); empty: this
	// machine's. Another CPU's RUN steps run under QEMU's emulation.
	Platform string
	// Secret gives the build secret id (docker build --secret) to RUN
	// --mount=type=secret; nil, or an error wrapping ErrNotFound: the
	// client gave none.
	Secret func(ctx context.Context, id string) ([]byte, error)
	// SSH forwards the client's SSH agent id (docker build --ssh) to RUN
	// --mount=type=ssh: a socket on the engine's side, closed by release.
	// nil, or an error wrapping ErrNotFound: the client forwards none.
	SSH func(ctx context.Context, id string) (socket string, release func(), err error)
}

// NamedContext is what a --build-context name stands for: an image
// reference, or a folder (a context of its own).
type NamedContext struct {
	Image string
	Dir   string
}

// NoEarlierBuild begins a BuildStepRerun's reason when no earlier build
// made the step: a first build, where every step runs.
const NoEarlierBuild = "Reran because no earlier build made this step"

// BuildEventKind says what a build event reports.
type BuildEventKind string

const (
	BuildStepStarted BuildEventKind = "started" // a step begins
	BuildStepCached  BuildEventKind = "cached"  // the step's result came from the cache
	BuildStepRerun   BuildEventKind = "rerun"   // the step missed the cache; Output says why
	BuildStepOutput  BuildEventKind = "output"  // a chunk of a RUN step's output
	BuildStepDone    BuildEventKind = "done"    // the step finished
	BuildStepFailed  BuildEventKind = "failed"  // the step failed; Output has why
	BuildWarning     BuildEventKind = "warning" // something the user should know
	BuildMessage     BuildEventKind = "message" // pulling a base image, tagging
)

// BuildEvent is one line of a build's progress.
type BuildEvent struct {
	Kind        BuildEventKind
	Step, Steps int    // 1-based step number and total steps
	Stage       string // the stage's name, or its index
	Instruction string // as written, variables expanded
	Line        int    // the Dockerfile line the step starts on
	Output      string
	Duration    time.Duration
	// LayerSize is the bytes of file content the step added; 0 for a
	// step that changed only the image's metadata.
	LayerSize int64
	// Biggest are the largest files the step's layer holds, largest first.
	Biggest []PathSize `json:",omitempty"`
	// Layer is the diff ID of the layer the step made (or took from the
	// cache), so a layer can be traced to its line; "" for metadata.
	Layer string `json:",omitempty"`
	// ID is a short ID of the step's result (Docker's intermediate image).
	ID string
}

// PathSize is a file and its size in bytes.
type PathSize struct {
	Path string
	Size int64
}

// BuildResult is what a build made.
type BuildResult struct {
	ImageID string
	Tags    []string
	// CacheKeys are the build cache's keys of the steps the build ran or
	// took from the cache (what --cache-to exports).
	CacheKeys []string `json:",omitempty"`
}

// BuildCacheReport is what a build cache prune removed.
type BuildCacheReport struct {
	Deleted   []string
	Reclaimed int64
}

// Builder builds images from Dockerfiles.
type Builder interface {
	// Build runs the build and reports progress to fn. It returns a
	// *BuildStepError when a step fails.
	Build(ctx context.Context, opts BuildOptions, fn func(BuildEvent)) (BuildResult, error)
	// PruneCache forgets cached steps (all of them when all is true, else
	// those no tagged image is built from) and frees their layers.
	PruneCache(ctx context.Context, all bool) (BuildCacheReport, error)
}

// BuildStepError is a step that failed: a RUN that exited non-zero, a COPY
// whose source is missing.
type BuildStepError struct {
	Step        int
	Line        int
	Instruction string
	// Command is the RUN's command line, ExitCode its status (0 when the
	// step did not get to run a command).
	Command  string
	ExitCode int
	Err      error
}

func (e *BuildStepError) Error() string {
	if e.ExitCode != 0 {
		return fmt.Sprintf("The command '%s' returned a non-zero code: %d", e.Command, e.ExitCode)
	}
	return e.Err.Error()
}

func (e *BuildStepError) Unwrap() error { return e.Err }
