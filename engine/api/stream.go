package api

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/jsonstream"
)

// jsonStream writes the newline-delimited JSON messages docker prints as
// progress bars. It is safe for concurrent use: layers report in parallel.
type jsonStream struct {
	mu  sync.Mutex
	enc *json.Encoder
	rc  *http.ResponseController
	// push words some statuses differently from pull, as dockerd does.
	push bool
}

func newJSONStream(w http.ResponseWriter, push bool) *jsonStream {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return &jsonStream{enc: json.NewEncoder(w), rc: http.NewResponseController(w), push: push}
}

func (s *jsonStream) send(m jsonstream.Message) { s.encode(m) }

// encode writes one message and flushes it, so the client sees it now.
func (s *jsonStream) encode(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enc.Encode(v)
	s.rc.Flush()
}

// progress turns an engine progress event into dockerd's wording.
func (s *jsonStream) progress(p engine.Progress) {
	m := jsonstream.Message{ID: p.ID}
	switch p.Status {
	case engine.ProgressResolving, engine.ProgressDone:
		m.Status = p.Message
	case engine.ProgressWaiting:
		m.Status = "Pulling fs layer"
		if s.push {
			m.Status = "Preparing"
		}
		m.Progress = &jsonstream.Progress{}
	case engine.ProgressAlreadyExists:
		m.Status = "Already exists"
		if s.push {
			m.Status = "Layer already exists"
		}
		m.Progress = &jsonstream.Progress{}
	case engine.ProgressDownloading, engine.ProgressExtracting, engine.ProgressPushing:
		m.Status = p.Status.String()
		m.Progress = &jsonstream.Progress{Current: p.Current, Total: p.Total}
	default:
		m.Status = p.Status.String()
		m.Progress = &jsonstream.Progress{}
	}
	s.send(m)
}

// fail ends a stream with an error; the status line was sent long ago.
// fail ends the stream with err, under both of dockerd's keys: the CLI
// reads errorDetail, docker-py the older "error" (a load that failed
// looked like success to it).
func (s *jsonStream) fail(err error) {
	s.encode(struct {
		ErrorDetail jsonstream.Error `json:"errorDetail"`
		Error       string           `json:"error"`
	}{jsonstream.Error{Message: err.Error()}, err.Error()})
}

func (s *jsonStream) text(line string) {
	s.send(jsonstream.Message{Stream: line})
}
