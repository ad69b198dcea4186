package dockerfile

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// bench300 stitches corpus files into one Dockerfile of at least 300 lines:
// many stages, RUNs with continuations, heredocs, every instruction.
func bench300(tb testing.TB) []byte {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "dockerfiles", "*.Dockerfile"))
	sort.Strings(files)
	var buf bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if bytes.HasPrefix(data, []byte("# escape")) || bytes.Contains(data, []byte("escape=`")) {
			continue // one escape directive per file, at the top
		}
		buf.Write(data)
		buf.WriteByte('\n')
		if bytes.Count(buf.Bytes(), []byte("\n")) >= 300 {
			break
		}
	}
	return buf.Bytes()
}

// BenchmarkAnalyze300Lines: the editor validates on every keystroke, so
// this must stay well under 2 ms.
func BenchmarkAnalyze300Lines(b *testing.B) {
	src := bench300(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		Analyze(src)
	}
	b.ReportMetric(float64(bytes.Count(src, []byte("\n"))), "lines")
}

// BenchmarkBuildKitParse300Lines is the floor: BuildKit's parser alone on
// the same file (about half of Analyze).
func BenchmarkBuildKitParse300Lines(b *testing.B) {
	src := bench300(b)
	for b.Loop() {
		parser.Parse(bytes.NewReader(src))
	}
}
