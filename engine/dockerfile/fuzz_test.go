package dockerfile

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAnalyze: any input, however broken, gives diagnostics that point
// inside the file, and never a panic (Analyze turns one into an error
// diagnostic, which this target refuses to see). An edit of one line then
// analyzed by the same Analyzer gives what a fresh analysis gives. The
// corpus it found is kept in testdata/fuzz/FuzzAnalyze; CI runs it for a
// bounded time.
func FuzzAnalyze(f *testing.F) {
	for _, pattern := range []string{filepath.Join("testdata", "*", "*.Dockerfile"), filepath.Join("..", "..", "testdata", "dockerfiles", "*.Dockerfile")} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data, uint16(1), []byte("x"))
			}
		}
	}
	f.Add([]byte("FROM scratch\n# check=skip=JSONArgsRecommended\nCMD mycommand\n"), uint16(2), []byte("# check=skip=all"))
	f.Fuzz(func(t *testing.T, src []byte, line uint16, text []byte) {
		z := new(Analyzer)
		res := z.Analyze(src)
		checkResult(t, src, res)
		lines := bytes.Split(src, []byte("\n"))
		i := int(line) % len(lines)
		lines[i] = text
		edited := bytes.Join(lines, []byte("\n"))
		inc := z.Analyze(edited)
		checkResult(t, edited, inc)
		if full := Analyze(edited); !reflect.DeepEqual(inc, full) {
			t.Fatalf("incremental and full analyses differ\nincremental: %s\nfull:        %s", summary(inc), summary(full))
		}
	})
}

func checkResult(t *testing.T, src []byte, res *Result) {
	t.Helper()
	lines := strings.Count(string(src), "\n") + 1
	for _, d := range res.Diagnostics {
		if strings.Contains(d.Message, "Berth's validator failed") {
			t.Fatalf("the analysis panicked: %s", d.Message)
		}
		if d.Line < 1 || d.Line > lines || d.EndLine < d.Line || d.Column < 1 || d.EndLine == d.Line && d.EndColumn < d.Column {
			t.Fatalf("diagnostic out of the file (%d lines): %+v", lines, d)
		}
		if d.Rule == "" || d.Message == "" || !utf8.ValidString(d.Rule) {
			t.Fatalf("diagnostic without rule or message: %+v", d)
		}
		if _, ok := RuleByID(d.Rule); !ok {
			t.Fatalf("diagnostic of an undeclared rule: %+v", d)
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
}
