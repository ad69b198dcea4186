package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// The editor validates with what the build context says: its
// .dockerignore (a COPY of an ignored file) and its .hadolint.yaml.
func TestEditorKnowsItsContext(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM alpine:3.20\nWORKDIR /app\nCOPY secrets.env ./\nCMD run\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("secrets.env\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hadolint.yaml"), []byte("ignored: [DL3025]\n"), 0o644)
	e := NewEditor("")
	if err := e.Open(dir); err != nil {
		t.Fatal(err)
	}
	rules := func() []string {
		var out []string
		for _, d := range e.Result().Diagnostics {
			out = append(out, d.Rule)
		}
		return out
	}
	if got := rules(); !slices.Contains(got, "CopyIgnoredFile") || slices.Contains(got, "JSONArgsRecommended") {
		t.Fatalf("diagnostics %v: want CopyIgnoredFile, and no JSONArgsRecommended (ignored by .hadolint.yaml)", got)
	}
	// Edits are validated with the same context.
	e.SetText("FROM alpine:3.20\nWORKDIR /app\nCOPY secrets.env app.py ./\nCMD run\n")
	res := e.AnalyzeNow()
	if !slices.ContainsFunc(res.Diagnostics, func(d engine.Diagnostic) bool { return d.Rule == "CopyIgnoredFile" && d.Line == 3 }) {
		t.Fatalf("after an edit: %v", rules())
	}
}
