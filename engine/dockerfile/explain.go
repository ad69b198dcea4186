package dockerfile

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// LayerEffect says what an instruction does to the image's filesystem.
type LayerEffect string

const (
	AddsLayer   LayerEffect = "layer"    // a new filesystem layer
	MaybeLayer  LayerEffect = "maybe"    // a layer only when it changes something
	Metadata    LayerEffect = "metadata" // the image config only, no layer
	StartsStage LayerEffect = "stage"    // FROM: the base image's layers
)

// Explanation is what an instruction does, in plain words.
type Explanation struct {
	Keyword string
	Summary string // one line
	Text    string // a short paragraph for learners
	Effect  LayerEffect
}

var explanations = map[string]Explanation{
	"from": {"FROM", "Starts a build stage from an image.",
		"FROM picks the image your image builds on: its files become your first layers and its settings your defaults. FROM scratch starts from nothing. A Dockerfile can have several FROMs (stages); the last one is the image you get unless you build a --target.", StartsStage},
	"run": {"RUN", "Runs a command in the image and keeps what it changed as a new layer.",
		"RUN starts a container from the image so far, runs the command (through /bin/sh -c in the shell form), and saves every file it added, changed or deleted as a new layer. Files deleted in a later RUN still take space in the earlier layer, so clean up in the same RUN.", AddsLayer},
	"copy": {"COPY", "Copies files from the build context (or another stage) into the image, as a new layer.",
		"COPY src dest copies files and directories from the folder you build (the context) into the image. Paths are relative to the context; a destination ending in / is a directory. COPY --from=stage copies from an earlier stage. The build cache reruns a COPY only when the copied files changed.", AddsLayer},
	"add": {"ADD", "Like COPY, but also unpacks local tar archives and downloads URLs; a new layer.",
		"ADD copies like COPY, and in addition extracts a local .tar (gzip, bzip2, xz) into the destination and downloads http(s) URLs. Prefer COPY unless you need one of those.", AddsLayer},
	"cmd": {"CMD", "Sets the default command a container runs. Metadata only.",
		"CMD is what docker run starts when you give no command. Only the last CMD counts. The exec form CMD [\"python\", \"app.py\"] runs the program directly, so it receives docker stop's signal.", Metadata},
	"entrypoint": {"ENTRYPOINT", "Sets the program every container runs; CMD becomes its arguments. Metadata only.",
		"ENTRYPOINT makes the image behave like one program: docker run image ARGS passes ARGS to it (replacing CMD). Use the exec form so signals reach it.", Metadata},
	"env": {"ENV", "Sets environment variables for later instructions and for containers. Metadata only.",
		"ENV KEY=value is stored in the image config: RUN steps after it see it, and so does every container. Do not put secrets here; anyone with the image can read them.", Metadata},
	"arg": {"ARG", "Declares a build-time variable (docker build --build-arg). Metadata only.",
		"ARG NAME=default makes $NAME available to the following instructions while building; unlike ENV it is not set in running containers. An ARG before the first FROM can be used in FROM.", Metadata},
	"workdir": {"WORKDIR", "Sets the working directory for later instructions and containers; creates it if missing.",
		"WORKDIR /app makes /app the current directory for RUN, COPY with relative destinations, CMD and docker exec. If the directory does not exist yet it is created, which adds a small layer.", MaybeLayer},
	"expose": {"EXPOSE", "Documents the ports the app listens on. Metadata only.",
		"EXPOSE 8000 records that the app listens on port 8000. It does not open anything: publish the port with docker run -p 8000:8000 (or -P for all exposed ports).", Metadata},
	"label": {"LABEL", "Adds key=value labels to the image. Metadata only.",
		"Labels describe the image (version, source, authors) and show in docker inspect; tools filter images by them.", Metadata},
	"user": {"USER", "Sets the user later RUN steps and containers run as. Metadata only.",
		"USER app runs the following RUNs, CMD and ENTRYPOINT as app instead of root, which limits what a compromised process can do. The user must exist in the image (create it with a RUN first).", Metadata},
	"volume": {"VOLUME", "Marks directories whose data lives outside the container. Metadata only.",
		"VOLUME /data makes every container get a volume at /data, so the data survives the container. Changes to /data in later RUN steps are discarded.", Metadata},
	"stopsignal": {"STOPSIGNAL", "Sets the signal docker stop sends. Metadata only.",
		"docker stop sends SIGTERM by default, then SIGKILL after a timeout. Some programs want another signal (nginx: SIGQUIT for a graceful stop).", Metadata},
	"healthcheck": {"HEALTHCHECK", "Tells Docker how to check that the container still works. Metadata only.",
		"HEALTHCHECK CMD curl -f http://localhost/ || exit 1 runs the command every 30 s (--interval); the container shows as healthy or unhealthy.", Metadata},
	"shell": {"SHELL", "Sets the shell used by shell-form RUN, CMD and ENTRYPOINT. Metadata only.",
		"SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] makes later shell-form instructions run with bash and fail when any command in a pipe fails.", Metadata},
	"onbuild": {"ONBUILD", "Stores an instruction to run when another image is built FROM this one. Metadata only.",
		"ONBUILD COPY . /app does nothing now; a Dockerfile that starts FROM this image runs it first. Used for base images of a framework.", Metadata},
	"maintainer": {"MAINTAINER", "Sets the author field (deprecated). Metadata only.",
		"Use LABEL org.opencontainers.image.authors=\"...\" instead.", Metadata},
}

// Explain returns what an instruction (any case) does.
func Explain(keyword string) (Explanation, bool) {
	e, ok := explanations[strings.ToLower(keyword)]
	return e, ok
}

// Step is one instruction of a Dockerfile, as the editor shows it.
type Step struct {
	Line, EndLine int
	Keyword       string // upper case
	Stage         int    // 0-based; -1 before the first FROM
	StageName     string
	Effect        LayerEffect
	// Layer counts the layers this Dockerfile adds in the stage, from 1;
	// 0 for an instruction that adds none.
	Layer int
}

// Note is the editor's side note for the step, e.g. "adds layer 4 of
// this stage (after the base image's)".
func (s Step) Note() string {
	switch s.Effect {
	case StartsStage:
		if s.StageName != "" {
			return fmt.Sprintf("starts stage %d (%s) from the base image's layers", s.Stage, s.StageName)
		}
		return fmt.Sprintf("starts stage %d from the base image's layers", s.Stage)
	case AddsLayer:
		return fmt.Sprintf("adds layer %d of this stage (after the base image's)", s.Layer)
	case MaybeLayer:
		return fmt.Sprintf("adds layer %d of this stage if the directory is new", s.Layer)
	}
	return "changes the image's settings only: no layer"
}

// step records what the instruction does, in the current stage.
func (a *analysis) step(node *parser.Node, kw string, layer int) {
	e, ok := explanations[kw]
	if !ok {
		return
	}
	s := Step{Line: node.StartLine, EndLine: node.EndLine, Keyword: e.Keyword, Stage: -1, Effect: e.Effect, Layer: layer}
	if a.cur != nil {
		s.Stage, s.StageName = a.cur.index, a.cur.name
	}
	a.steps = append(a.steps, s)
}

// StepAt is the step on line ln, if any.
func (r *Result) StepAt(ln int) (Step, bool) {
	for _, s := range r.Steps {
		if ln >= s.Line && ln <= s.EndLine {
			return s, true
		}
	}
	return Step{}, false
}
