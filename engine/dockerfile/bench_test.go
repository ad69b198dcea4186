package dockerfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
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

// BenchmarkAnalyzeKeystroke300Lines: the editor re-validates after each
// keystroke; an edit inside one instruction parses only that one (see
// Analyzer), and must stay well under 1 ms.
func BenchmarkAnalyzeKeystroke300Lines(b *testing.B) {
	src := bench300(b)
	lines := bytes.Split(src, []byte("\n"))
	// A RUN line in the middle, edited one character at a time.
	target := -1
	for i := len(lines) / 2; i < len(lines); i++ {
		if bytes.HasPrefix(lines[i], []byte("RUN ")) && !bytes.HasSuffix(lines[i], []byte("\\")) && (i == 0 || !bytes.HasSuffix(lines[i-1], []byte("\\"))) {
			target = i
			break
		}
	}
	if target < 0 {
		b.Fatal("no single-line RUN to edit")
	}
	versions := make([][]byte, 2)
	for v := range versions {
		edited := slices.Clone(lines)
		edited[target] = append(slices.Clone(lines[target]), []byte(" x"[:v+1])...)
		versions[v] = bytes.Join(edited, []byte("\n"))
	}
	z := new(Analyzer)
	z.Analyze(src)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		z.Analyze(versions[i%2])
		i++
	}
}
