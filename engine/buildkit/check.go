package buildkit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerfile"
	"github.com/moby/buildkit/solver/pb"
)

// The lint subrequest (docker build --check) as BuildKit answers it: its
// request ID, the version of its answer, and the answer's shape
// (BuildKit's frontend/subrequests/lint, whose package would bring the
// whole LLB client along).
const (
	lintRequest = "frontend.lint"
	lintVersion = "1.0.0"
)

type lintResults struct {
	Warnings []lintWarning    `json:"warnings"`
	Sources  []*pb.SourceInfo `json:"sources"`
}

type lintWarning struct {
	RuleName    string       `json:"ruleName"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Detail      string       `json:"detail,omitempty"`
	Location    *pb.Location `json:"location,omitempty"`
}

// check answers docker build --check with Berth's own validator, the
// editor's: its errors and warnings, under BuildKit's rule names where
// the rule is BuildKit's, as the metadata buildx prints and takes its
// exit status from.
func (s *Server) check(ctx context.Context, j *job, opts map[string]string) (map[string][]byte, error) {
	j.mu.Lock()
	sessionID := j.solve.Session
	j.mu.Unlock()
	caller, err := s.sessions.Get(ctx, sessionID, false)
	if err != nil {
		return nil, fmt.Errorf("the client's session %s: %w", sessionID, err)
	}
	filename := cmp.Or(opts["filename"], "Dockerfile")
	data, _, err := receiveDockerfile(ctx, caller, newVertices(j.progress, j.ref), filename)
	if err != nil {
		return nil, err
	}
	return lintAnswer(filename, data, dockerfile.Check(data))
}

// lintAnswer is a Dockerfile's errors and warnings as the lint
// subrequest's metadata (its notes are left out, as BuildKit has none).
func lintAnswer(filename string, data []byte, diags []engine.Diagnostic) (map[string][]byte, error) {
	results := lintResults{Warnings: []lintWarning{}, Sources: []*pb.SourceInfo{{Filename: filename, Language: "Dockerfile", Data: data}}}
	var text strings.Builder
	for _, d := range diags {
		if d.Severity != engine.SeverityError && d.Severity != engine.SeverityWarning {
			continue
		}
		end, endCol := max(d.EndLine, d.Line), d.EndColumn
		if end == d.Line && endCol <= d.Column {
			endCol = d.Column + 1
		}
		results.Warnings = append(results.Warnings, lintWarning{
			RuleName:    d.Rule,
			Description: d.Message,
			Location: &pb.Location{Ranges: []*pb.Range{{
				Start: &pb.Position{Line: int32(d.Line), Character: int32(max(d.Column-1, 0))},
				End:   &pb.Position{Line: int32(end), Character: int32(max(endCol-1, 0))},
			}}},
		})
		fmt.Fprintf(&text, "WARNING: %s\n%s:%d\n%s\n\n", d.Rule, filename, d.Line, d.Message)
	}
	raw, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return nil, err
	}
	status := "0"
	if len(results.Warnings) > 0 {
		status = "1"
	}
	return map[string][]byte{"result.json": raw, "result.txt": []byte(text.String()), "result.statuscode": []byte(status), "version": []byte(lintVersion)}, nil
}
