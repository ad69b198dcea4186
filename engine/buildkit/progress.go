package buildkit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/engine"
	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// progress is a build's status messages, kept so that every Status call
// (one comes at any time during the build, or just after) reads them all.
type progress struct {
	mu     sync.Mutex
	msgs   []*controlapi.StatusResponse
	wake   chan struct{} // closed and replaced at each change
	closed bool
}

func newProgress() *progress { return &progress{wake: make(chan struct{})} }

func (p *progress) send(m *controlapi.StatusResponse) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.msgs = append(p.msgs, m)
	close(p.wake)
	p.wake = make(chan struct{})
}

func (p *progress) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.wake)
	}
}

// stream hands fn every message, from the first, until the build ends.
func (p *progress) stream(ctx context.Context, fn func(*controlapi.StatusResponse) error) error {
	next := 0
	for {
		p.mu.Lock()
		batch, closed, wake := p.msgs[next:], p.closed, p.wake
		next = len(p.msgs)
		p.mu.Unlock()
		for _, m := range batch {
			if err := fn(m); err != nil {
				return err
			}
		}
		if closed {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// vertices turns a build's events into BuildKit's vertices and logs, the
// lines buildx draws: one vertex per Dockerfile step, as BuildKit names
// them ("[2/5] RUN pip install …"), and the work around them ("[internal]
// load build context", "exporting to image").
type vertices struct {
	p        *progress
	ref      string
	platform string // in a multi-platform build, the one these steps are for
	mu       sync.Mutex
	byID     map[string]*controlapi.Vertex
	step     string // the vertex of the step under way: messages between steps go to it
}

func newVertices(p *progress, ref string) *vertices {
	return &vertices{p: p, ref: ref, byID: map[string]*controlapi.Vertex{}}
}

func (v *vertices) digest(key string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(v.ref+"\x00"+key)))
}

// start begins the vertex key, named name.
func (v *vertices) start(key, name string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	d := v.digest(key)
	vx := &controlapi.Vertex{Digest: d, Name: name, Started: timestamppb.Now()}
	v.byID[d] = vx
	v.p.send(&controlapi.StatusResponse{Vertexes: []*controlapi.Vertex{proto.Clone(vx).(*controlapi.Vertex)}})
	return d
}

// complete ends the vertex d: cached, failed with errMsg, or done.
func (v *vertices) complete(d string, cached bool, errMsg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vx, ok := v.byID[d]
	if !ok || vx.Completed != nil {
		return
	}
	vx.Completed, vx.Cached, vx.Error = timestamppb.Now(), cached, errMsg
	v.p.send(&controlapi.StatusResponse{Vertexes: []*controlapi.Vertex{proto.Clone(vx).(*controlapi.Vertex)}})
}

// log adds output to the vertex d (stream 1: stdout, 2: stderr).
func (v *vertices) log(d string, stream int64, text string) {
	if d == "" || text == "" {
		return
	}
	v.p.send(&controlapi.StatusResponse{Logs: []*controlapi.VertexLog{{Vertex: d, Stream: stream, Msg: []byte(text), Timestamp: timestamppb.Now()}}})
}

// warn is a warning buildx lists after the build.
func (v *vertices) warn(d, text string) {
	v.p.send(&controlapi.StatusResponse{Warnings: []*controlapi.VertexWarning{{Vertex: d, Level: 1, Short: []byte(text)}}})
}

// run does fn as the vertex key named name, which fails with fn's error.
func (v *vertices) run(key, name string, fn func(d string) error) error {
	d := v.start(key, name)
	err := fn(d)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	v.complete(d, false, msg)
	return err
}

// event shows one of the builder's events.
func (v *vertices) event(ev engine.BuildEvent, fallback string) {
	key := v.platform + " step " + strconv.Itoa(ev.Step)
	switch ev.Kind {
	case engine.BuildStepStarted:
		// As BuildKit names them: "[2/5] RUN …", "[builder 2/5] …",
		// "[linux/arm64 builder 2/5] …".
		var label []string
		if v.platform != "" {
			label = append(label, v.platform)
		}
		if _, err := strconv.Atoi(ev.Stage); err != nil && ev.Stage != "" {
			label = append(label, ev.Stage)
		}
		label = append(label, fmt.Sprintf("%d/%d", ev.Step, ev.Steps))
		name := "[" + strings.Join(label, " ") + "] " + ev.Instruction
		d := v.start(key, name)
		v.mu.Lock()
		v.step = d
		v.mu.Unlock()
	case engine.BuildStepCached:
		v.complete(v.digest(key), true, "")
	case engine.BuildStepRerun:
		if !strings.HasPrefix(ev.Output, engine.NoEarlierBuild) { // every step of a first build runs: no news
			v.log(v.digest(key), 1, ev.Output+"\n") // why the cache was missed: Berth's insight
		}
	case engine.BuildStepOutput:
		v.log(v.digest(key), 1, ev.Output)
	case engine.BuildStepDone:
		v.complete(v.digest(key), false, "")
	case engine.BuildStepFailed:
		v.complete(v.digest(key), false, ev.Output)
	case engine.BuildWarning:
		v.warn(fallback, ev.Output)
	case engine.BuildMessage:
		v.mu.Lock()
		d := v.step
		v.mu.Unlock()
		if d == "" {
			d = fallback
		}
		v.log(d, 1, ev.Output+"\n")
	}
}
