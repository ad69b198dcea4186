package dockerfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// An Analyzer that reuses its last parse gives exactly what a fresh
// analysis gives, edit after edit: typing, deleting, new lines, joined
// lines, continuations and comments appearing and going.
func TestAnalyzerIncrementalMatchesFull(t *testing.T) {
	src := bench300(t)
	rng := rand.New(rand.NewPCG(1, 2))
	edits := []func(line []byte) [][]byte{
		func(l []byte) [][]byte { return [][]byte{append(slices.Clone(l), 'x')} },
		func(l []byte) [][]byte {
			if len(l) == 0 {
				return [][]byte{l}
			}
			return [][]byte{l[:len(l)-1]}
		},
		func(l []byte) [][]byte { return [][]byte{l, {}} },
		func(l []byte) [][]byte { return [][]byte{append(slices.Clone(l), " \\"...)} },
		func(l []byte) [][]byte { return [][]byte{append([]byte("# "), l...)} },
		func(l []byte) [][]byte { return [][]byte{append(slices.Clone(l), " $PAHT"...)} },
		func(l []byte) [][]byte { return nil },
		func(l []byte) [][]byte { return [][]byte{bytes.ToLower(l)} },
	}
	z := new(Analyzer)
	z.Analyze(src)
	cur := src
	for step := 0; step < 400; step++ {
		lines := bytes.Split(cur, []byte("\n"))
		i := rng.IntN(len(lines))
		e := rng.IntN(len(edits))
		next := slices.Concat(lines[:i], edits[e](lines[i]), lines[i+1:])
		cur = bytes.Join(next, []byte("\n"))
		got := z.Analyze(cur)
		want := Analyze(cur)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d (edit %d on line %d): incremental and full analyses differ\nincremental: %s\nfull:        %s", step, e, i+1, summary(got), summary(want))
		}
	}
}

func summary(r *Result) string {
	var b bytes.Buffer
	for _, d := range r.Diagnostics {
		fmt.Fprintf(&b, "\n  %d:%d %s %s", d.Line, d.Column, d.Rule, d.Message)
	}
	fmt.Fprintf(&b, "\n  %d steps", len(r.Steps))
	return b.String()
}
