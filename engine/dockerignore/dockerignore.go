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
	pm, _, err := read(dir, dockerfile)
	return pm, err
}

// Patterns are Read's patterns as the file writes them, checked: what a
// context's sender leaves out (BuildKit's exclude patterns).
func Patterns(dir, dockerfile string) ([]string, error) {
	_, patterns, err := read(dir, dockerfile)
	return patterns, err
}

func read(dir, dockerfile string) (*patternmatcher.PatternMatcher, []string, error) {
	names := []string{".dockerignore"}
	if dockerfile != "" {
		names = append([]string{dockerfile + ".dockerignore"}, names...)
	}
	for _, name := range names {
		// Inside the context only (a symlink or ../ cannot lead out).
		p, err := securejoin.SecureJoin(dir, name)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w: %w", name, err, engine.ErrInvalidArgument)
		}
		return pm, patterns, nil
	}
	return nil, nil, nil
}
