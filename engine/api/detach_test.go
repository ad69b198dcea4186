package api

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/berth-dev/berth/engine"
)

func TestDetachKeys(t *testing.T) {
	for spec, want := range map[string]string{
		"ctrl-p,ctrl-q":   "\x10\x11",
		"ctrl-@,a,ctrl-_": "\x00a\x1f",
		"CTRL-X":          "\x18",
	} {
		got, err := detachKeys(spec)
		if err != nil || string(got) != want {
			t.Errorf("detachKeys(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "ctrl-1", "ctrl-pp", "ab"} {
		if _, err := detachKeys(bad); !errors.Is(err, engine.ErrInvalidArgument) {
			t.Errorf("detachKeys(%q) = %v, want a refusal", bad, err)
		}
	}
}

// The input reaches the container up to the detach keys, false starts
// included; then the input ends as detached, once.
func TestDetachReader(t *testing.T) {
	for _, tc := range []struct {
		in, passed string
		detached   bool
	}{
		{"hello\x10\x11after", "hello", true},
		{"a\x10b\x10\x10\x11", "a\x10b\x10", true},
		{"no keys\x10", "no keys", false}, // a sequence cut off by the end is held back
		{"plain", "plain", false},
	} {
		detached := 0
		r := &detachReader{r: iotest.OneByteReader(strings.NewReader(tc.in)), keys: []byte{0x10, 0x11}, detach: func() { detached++ }}
		var got bytes.Buffer
		_, err := io.Copy(&got, r)
		if got.String() != tc.passed || errors.Is(err, engine.ErrDetached) != tc.detached || detached != map[bool]int{true: 1}[tc.detached] {
			t.Errorf("%q: passed %q, err %v, detach called %d times", tc.in, got.String(), err, detached)
		}
	}
}
