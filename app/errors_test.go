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
		{fmt.Errorf("pull x: %w", engine.ErrEngineUnreachable), "Is the engine running?"},
		{fmt.Errorf("pull busybox: cannot reach the registry: Get \"https://index.docker.io/v2/\": dial tcp: lookup index.docker.io: no such host: %w", engine.ErrUnavailable), "are you online?"},
		{fmt.Errorf("search: cannot reach the registry: dial tcp 127.0.0.1:5000: connect: connection refused: %w", engine.ErrUnavailable), "refused the connection"},
		{fmt.Errorf("pull: cannot reach the registry: net/http: TLS handshake timeout: %w", engine.ErrUnavailable), "did not answer in time"},
		{fmt.Errorf("push: the registry failed: 502: %w", engine.ErrUnavailable), "failed on its side"},
		{fmt.Errorf("pull: %w", engine.ErrUnavailable), "could not be reached"},
		{fmt.Errorf("No such image: x: %w", engine.ErrNotFound), "Check the name and tag"},
		{fmt.Errorf("pull: %w", engine.ErrDigestMismatch), "nothing was kept"},
		{errors.New("something else"), "something else"},
	} {
		got := Explain(tt.err)
		if errors.Is(tt.err, engine.ErrUnavailable) && !errors.Is(tt.err, engine.ErrEngineUnreachable) && strings.Contains(got, "engine") {
			t.Errorf("Explain(%v) blames the engine for a registry that did not answer: %q", tt.err, got)
		}
		if !strings.Contains(got, tt.want) || (tt.err != nil && !strings.Contains(got, tt.err.Error())) {
			t.Errorf("Explain(%v) = %q, want it to contain %q and the error", tt.err, got, tt.want)
		}
	}
	if Explain(nil) != "" {
		t.Error("Explain(nil) is not empty")
	}
}
