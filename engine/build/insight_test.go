package build

import (
	"strings"
	"testing"
)

func TestWhyReran(t *testing.T) {
	base := stepInputs{Instruction: "RUN make", Parent: "p1", Args: map[string]string{"V": "1"}}
	with := func(f func(*stepInputs)) stepInputs { s := base; f(&s); return s }
	for _, tc := range []struct {
		name string
		prev *stepInputs
		cur  stepInputs
		want string
	}{
		{"first build", nil, base, "no earlier build made this step"},
		{"base image", &stepInputs{Instruction: "RUN make", BaseID: "sha256:a"}, with(func(s *stepInputs) { s.Base, s.BaseID = "python:3.11-slim", "sha256:b" }), "the base image python:3.11-slim changed"},
		{"line", &base, with(func(s *stepInputs) { s.Instruction = "RUN make all" }), `the line changed: it was "RUN make"`},
		{"arg", &base, with(func(s *stepInputs) { s.Args = map[string]string{"V": "2"}; s.Parent = "p2"; s.parentRan = true }), "ARG V changed from 1 to 2"},
		{"arg set", &base, with(func(s *stepInputs) { s.Args = map[string]string{"V": "1", "W": "x"} }), "ARG W is now set (x)"},
		{"step before", &base, with(func(s *stepInputs) { s.Parent = "p2"; s.parentRan = true }), "the step before it reran"},
		{"parent changed, cached", &base, with(func(s *stepInputs) { s.Parent = "p2" }), "what it builds on changed"},
		{"pruned", &base, base, "its cached result is gone"},
	} {
		got := whyReran(tc.prev, tc.cur, 7)
		if !strings.HasPrefix(got, "Reran because "+tc.want) || !strings.HasSuffix(got, "(RUN make, line 7)") && !strings.HasSuffix(got, "(RUN make all, line 7)") {
			t.Errorf("%s: %q, want it to say %q", tc.name, got, tc.want)
		}
	}
}
