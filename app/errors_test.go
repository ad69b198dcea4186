package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
)

func TestExplain(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("pull x: %w", engine.ErrUnavailable), "Is the engine running?"},
		{fmt.Errorf("No such image: x: %w", engine.ErrNotFound), "Check the name and tag"},
		{fmt.Errorf("pull: %w", engine.ErrDigestMismatch), "nothing was kept"},
		{errors.New("something else"), "something else"},
	} {
		got := Explain(tt.err)
		if !strings.Contains(got, tt.want) || (tt.err != nil && !strings.Contains(got, tt.err.Error())) {
			t.Errorf("Explain(%v) = %q, want it to contain %q and the error", tt.err, got, tt.want)
		}
	}
	if Explain(nil) != "" {
		t.Error("Explain(nil) is not empty")
	}
}
