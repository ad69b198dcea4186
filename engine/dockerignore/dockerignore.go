// Package dockerignore reads a build context's .dockerignore, the one way
// the builder, the client that sends a context, the watcher and the
// validator all read it.
package dockerignore

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-dev/berth/engine"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Read returns the patterns of the context in dir, as Docker finds them:
// <Dockerfile>.dockerignore beside the Dockerfile's name first, else
// .dockerignore. dockerfile is relative to dir. No file is no
// patterns: nil, nil. A pattern that is no pattern wraps
// engine.ErrInvalidArgument.
func Read(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	names := []string{".dockerignore"}
	if dockerfile != "" {
		names = append([]string{dockerfile + ".dockerignore"}, names...)
	}
	for _, name := range names {
		// Inside the context only (a symlink or ../ cannot lead out).
		p, err := securejoin.SecureJoin(dir, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, err, engine.ErrInvalidArgument)
		}
		return pm, nil
	}
	return nil, nil
}
