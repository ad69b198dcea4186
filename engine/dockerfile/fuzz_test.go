package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAnalyze: any input, however broken, gives diagnostics that point
// inside the file, and never a panic. The corpus it found is kept in
// testdata/fuzz/FuzzAnalyze.
func FuzzAnalyze(f *testing.F) {
	for _, pattern := range []string{filepath.Join("testdata", "broken", "*.Dockerfile"), filepath.Join("..", "..", "testdata", "dockerfiles", "*.Dockerfile")} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		res := Analyze(src)
		lines := strings.Count(string(src), "\n") + 1
		for _, d := range res.Diagnostics {
			if d.Line < 1 || d.Line > lines || d.EndLine < d.Line || d.Column < 1 || d.EndLine == d.Line && d.EndColumn < d.Column {
				t.Fatalf("diagnostic out of the file (%d lines): %+v", lines, d)
			}
			if d.Rule == "" || d.Message == "" || !utf8.ValidString(d.Rule) {
				t.Fatalf("diagnostic without rule or message: %+v", d)
			}
			if d.Fix != nil && (d.Fix.Line < 1 || d.Fix.EndLine < d.Fix.Line || d.Fix.EndLine > lines) {
				t.Fatalf("fix out of the file: %+v", d.Fix)
			}
		}
		for _, s := range res.Steps {
			if s.Line < 1 || s.EndLine < s.Line {
				t.Fatalf("step out of the file: %+v", s)
			}
		}
	})
}
