package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/container"
)

// docker exec: create, start (attached, or detached), inspect and resize
// of a process run in a running container.

// execs remembers exec instances between create, start and inspect.
type execs struct {
	mu sync.Mutex
	m  map[string]*execInstance
}

type execInstance struct {
	id, container string
	spec          engine.ExecSpec
	attachStdin   bool
	attachStdout  bool
	attachStderr  bool
	running       bool
	exitCode      *int
	// resizes carries the terminal's sizes to the running process.
	resizes chan engine.TermSize
}

func (s *server) execCreate(w http.ResponseWriter, r *http.Request, id string) {
	var req container.ExecCreateRequest
	if !decodeJSON(w, r, &req, "exec request") {
		return
	}
	if len(req.Cmd) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("No exec command specified"))
		return
	}
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	if c.State.Status != engine.StatusRunning {
		writeError(w, http.StatusConflict, fmt.Errorf("container %s is not running", c.ID))
		return
	}
	e := &execInstance{id: newExecID(), container: c.ID, attachStdin: req.AttachStdin, attachStdout: req.AttachStdout, attachStderr: req.AttachStderr,
		spec:    engine.ExecSpec{Cmd: req.Cmd, Env: req.Env, User: req.User, WorkingDir: req.WorkingDir, Tty: req.Tty, Privileged: req.Privileged},
		resizes: make(chan engine.TermSize, 1)}
	e.spec.Resizes = e.resizes
	if req.ConsoleSize != nil {
		e.spec.ConsoleHeight, e.spec.ConsoleWidth = req.ConsoleSize[0], req.ConsoleSize[1]
	}
	s.execs.mu.Lock()
	if s.execs.m == nil {
		s.execs.m = map[string]*execInstance{}
	}
	s.execs.m[e.id] = e
	s.execs.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"Id": e.id})
}

func (s *server) execRoutes(w http.ResponseWriter, r *http.Request, rest string) {
	id, action, _ := strings.Cut(rest, "/")
	s.execs.mu.Lock()
	e := s.execs.m[id]
	s.execs.mu.Unlock()
	if e == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("No such exec instance: %s", id))
		return
	}
	switch {
	case action == "start" && r.Method == http.MethodPost:
		s.execStart(w, r, e)
	case action == "json" && r.Method == http.MethodGet:
		s.execs.mu.Lock()
		resp := container.ExecInspectResponse{ID: e.id, Running: e.running, ExitCode: e.exitCode, ContainerID: e.container,
			OpenStdin: e.attachStdin, OpenStdout: e.attachStdout, OpenStderr: e.attachStderr,
			ProcessConfig: &container.ExecProcessConfig{Tty: e.spec.Tty, Entrypoint: e.spec.Cmd[0], Arguments: nonNil(e.spec.Cmd[1:]), User: e.spec.User}}
		s.execs.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
	case action == "resize" && r.Method == http.MethodPost:
		h, errH := strconv.ParseUint(r.URL.Query().Get("h"), 10, 16)
		wd, errW := strconv.ParseUint(r.URL.Query().Get("w"), 10, 16)
		if errH != nil || errW != nil {
			writeError(w, http.StatusBadRequest, errors.New("resize: h and w must be numbers of rows and columns"))
			return
		}
		size := engine.TermSize{Height: uint(h), Width: uint(wd)}
		select { // the newest size wins; an older one not yet taken goes
		case e.resizes <- size:
		default:
			select {
			case <-e.resizes:
			default:
			}
			select {
			case e.resizes <- size:
			default:
			}
		}
		w.WriteHeader(http.StatusOK)
	default:
		writeError(w, http.StatusNotFound, errors.New("page not found"))
	}
}

func (s *server) execStart(w http.ResponseWriter, r *http.Request, e *execInstance) {
	var req struct {
		Detach bool
		Tty    *bool // the stream's framing, as dockerd: raw with a Tty, else multiplexed
	}
	json.NewDecoder(io.LimitReader(r.Body, MaxJSONBody)).Decode(&req) // an empty body starts it as created
	rawStream := e.spec.Tty
	if req.Tty != nil {
		rawStream = *req.Tty
	}
	s.execs.mu.Lock()
	if e.running || e.exitCode != nil {
		s.execs.mu.Unlock()
		writeError(w, http.StatusConflict, fmt.Errorf("exec %s has already run", e.id))
		return
	}
	e.running = true
	s.execs.mu.Unlock()
	finish := func(code int) {
		s.execs.mu.Lock()
		e.running, e.exitCode = false, &code
		s.execs.mu.Unlock()
	}
	ctx := context.WithoutCancel(r.Context())
	if req.Detach {
		go func() {
			code, _ := s.b.ContainerIO.Exec(ctx, e.container, e.spec, engine.AttachOptions{})
			finish(code)
		}()
		w.WriteHeader(http.StatusOK)
		return
	}
	conn, rw, err := hijack(w)
	if err != nil {
		finish(126)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	defer conn.Close()
	if err := writeUpgrade(rw, r, rawStream); err != nil {
		finish(126)
		return
	}
	stdout, stderr := streamWriters(conn, rawStream)
	streams := engine.AttachOptions{}
	if e.attachStdout {
		streams.Stdout = stdout
	}
	if e.attachStderr {
		streams.Stderr = stderr
	}
	if e.attachStdin {
		streams.Stdin = rw.Reader
	}
	code, err := s.b.ContainerIO.Exec(ctx, e.container, e.spec, streams)
	if err != nil {
		// The CLI reads the exit code from inspect; the message goes to stderr.
		fmt.Fprintf(stderr, "%s\n", err)
	}
	finish(code)
	closeWriter(conn)
}

func newExecID() string {
	b := make([]byte, 32)
	randRead(b)
	return fmt.Sprintf("%x", b)
}
