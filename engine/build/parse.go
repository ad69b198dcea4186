package build

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parsedFile is a parsed Dockerfile.
type parsedFile struct {
	name     string // as the user named it, for messages
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	escape   rune
}

// parseDockerfile parses and checks the whole file: every instruction must
// be known and well formed before the build starts.
func parseDockerfile(name string, data []byte) (*parsedFile, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, syntaxError(name, err)
	}
	// A linter, even one that reports nothing: BuildKit reads "# check="
	// comments through it, and a nil one panics on them.
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil, syntaxError(name, err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM instruction: a Dockerfile starts with FROM <image> (only ARG may come before it): %w", name, engine.ErrInvalidArgument)
	}
	return &parsedFile{name: name, stages: stages, metaArgs: metaArgs, escape: res.EscapeToken}, nil
}

func syntaxError(name string, err error) error {
	msg := err.Error()
	line := 0
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	// BuildKit prefixes "dockerfile parse error on line N: "; the line is
	// ours to say once.
	if i := strings.Index(msg, "parse error on line "); i >= 0 {
		rest := msg[i+len("parse error on line "):]
		if j := strings.Index(rest, ": "); j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil && line == 0 {
				line = n
			}
			msg = rest[j+2:]
		}
	}
	if strings.Contains(msg, "file with no instructions") {
		msg = "the Dockerfile is empty: start it with FROM <image>"
	}
	if strings.Contains(msg, "no build stage in current context") {
		msg = "instructions before the first FROM: a Dockerfile starts with FROM <image> (only ARG may come before it)"
	}
	return &SyntaxError{File: name, Line: line, Msg: msg}
}

// stageIndex finds a stage by name (case-insensitively, as Docker) or
// number among the first n stages.
func (d *parsedFile) stageIndex(ref string, n int) (int, bool) {
	for i := 0; i < n && i < len(d.stages); i++ {
		if d.stages[i].Name != "" && strings.EqualFold(d.stages[i].Name, ref) {
			return i, true
		}
	}
	if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < n && i < len(d.stages) {
		return i, true
	}
	return -1, false
}

// target is the index of the stage to build.
func (d *parsedFile) target(name string) (int, error) {
	if name == "" {
		return len(d.stages) - 1, nil
	}
	if i, ok := d.stageIndex(name, len(d.stages)); ok {
		return i, nil
	}
	return 0, fmt.Errorf("target stage %q could not be found in %s: %w", name, d.name, engine.ErrInvalidArgument)
}

// line is where a command starts in the Dockerfile.
func line(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}
