package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/buildcontext"
	"github.com/berth-dev/berth/engine/reference"
	"github.com/moby/moby/api/types/jsonstream"
)

// buildImage is `docker build` with the classic builder (POST /build):
// the context arrives as a tar, the progress leaves as dockerd's stream.
func (s *server) buildImage(w http.ResponseWriter, r *http.Request) {
	if s.b.Builder == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine has no builder: %w", engine.ErrNotSupported))
		return
	}
	q := r.URL.Query()
	remote := q.Get("remote")
	if remote != "" && !buildcontext.IsRemote(remote) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("remote %q is neither a Git repository nor an http(s) URL: %w", remote, engine.ErrInvalidArgument))
		return
	}
	if q.Get("version") == "2" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("BuildKit sessions are not supported; Berth serves the classic build API (DOCKER_BUILDKIT=0): %w", engine.ErrNotSupported))
		return
	}
	opts := engine.BuildOptions{
		Dockerfile: q.Get("dockerfile"),
		Tags:       q["t"],
		Target:     q.Get("target"),
		NoCache:    boolParam(r, "nocache"),
		Pull:       boolParam(r, "pull"),
	}
	for _, t := range opts.Tags {
		if _, err := reference.Parse(t); err != nil {
			writeEngineError(w, fmt.Errorf("invalid tag %q: %w", t, err))
			return
		}
	}
	if v := q.Get("buildargs"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.BuildArgs); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("buildargs: %w", err))
			return
		}
	}
	if v := q.Get("labels"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.Labels); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("labels: %w", err))
			return
		}
	}
	dir, err := s.b.BuildContextDir()
	if err != nil {
		writeEngineError(w, err)
		return
	}
	defer os.RemoveAll(dir)
	opts.ContextDir = dir
	if remote != "" { // docker-py's remote=, docker build URL through the API
		got, err := buildcontext.Fetch(r.Context(), remote, dir)
		if err != nil {
			writeEngineError(w, err)
			return
		}
		opts.ContextDir, opts.DockerfileData = got.Dir, got.Dockerfile
	} else if err := buildcontext.Unpack(r.Body, dir); err != nil {
		writeEngineError(w, err)
		return
	}
	quiet := boolParam(r, "q")
	var failed *engine.BuildEvent

	stream := newJSONStream(w, false)
	// Every message carries the engine's own event beside the text the
	// docker CLI prints, so Berth's app gets steps, durations and sizes
	// through the same Docker-compatible stream.
	send := func(text string, ev *engine.BuildEvent) {
		if quiet {
			return
		}
		stream.encode(buildMessage{Message: jsonstream.Message{Stream: text}, Event: ev})
	}
	res, err := s.b.Builder.Build(r.Context(), opts, func(ev engine.BuildEvent) {
		e := ev
		switch ev.Kind {
		case engine.BuildStepStarted:
			text := fmt.Sprintf("Step %d/%d : %s\n", ev.Step, ev.Steps, ev.Instruction)
			if strings.HasPrefix(strings.ToUpper(ev.Instruction), "RUN") {
				text += " ---> Running in " + randomHex(6) + "\n"
			}
			send(text, &e)
		case engine.BuildStepCached:
			send(" ---> Using cache\n ---> "+ev.ID+"\n", &e)
		case engine.BuildStepRerun:
			send(" ---> "+ev.Output+"\n", &e) // why it missed the cache: a line the docker CLI shows as it is
		case engine.BuildStepOutput:
			send(ev.Output, &e)
		case engine.BuildStepDone:
			send(" ---> "+ev.ID+"\n", &e)
		case engine.BuildWarning:
			send("[Warning] "+ev.Output+"\n", &e)
		case engine.BuildMessage:
			send(ev.Output+"\n", &e)
		case engine.BuildStepFailed:
			failed = &e
		}
	})
	if err != nil {
		code := 1
		var se *engine.BuildStepError
		if errors.As(err, &se) && se.ExitCode != 0 {
			code = se.ExitCode
		}
		stream.encode(buildMessage{Message: jsonstream.Message{Error: &jsonstream.Error{Code: code, Message: err.Error()}}, ErrorMessage: err.Error(), Event: failed})
		return
	}
	aux, _ := json.Marshal(map[string]string{"ID": res.ImageID})
	raw := json.RawMessage(aux)
	stream.send(jsonstream.Message{Aux: &raw})
	if quiet {
		stream.text(res.ImageID + "\n")
		return
	}
	stream.text("Successfully built " + strings.TrimPrefix(res.ImageID, "sha256:")[:12] + "\n")
	for _, t := range res.Tags {
		if ref, err := reference.Parse(t); err == nil {
			t = reference.Familiar(reference.Canonical(ref))
		}
		stream.text("Successfully tagged " + t + "\n")
	}
}

// buildMessage is a build stream message with Berth's event.
type buildMessage struct {
	jsonstream.Message
	ErrorMessage string             `json:"error,omitempty"` // older clients read this
	Event        *engine.BuildEvent `json:"berthEvent,omitempty"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// buildPrune is `docker builder prune`.
func (s *server) buildPrune(w http.ResponseWriter, r *http.Request) {
	if s.b.Builder == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine has no builder: %w", engine.ErrNotSupported))
		return
	}
	rep, err := s.b.Builder.PruneCache(r.Context(), boolParam(r, "all"))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	if rep.Deleted == nil {
		rep.Deleted = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"CachesDeleted": rep.Deleted, "SpaceReclaimed": rep.Reclaimed})
}
