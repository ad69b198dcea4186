package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/engine/dockerfile"
	"github.com/berth-dev/berth/engine/dockerignore"
)

// LintConfig reads the lint configuration: the file at path, else
// .hadolint.yaml in the current folder or the user's configuration
// folder; an empty one when there is none.
func LintConfig(path string) (*dockerfile.Config, error) {
	cfg, err := dockerfile.LoadConfig(path, ".")
	if err != nil || cfg != nil {
		return cfg, err
	}
	return dockerfile.ParseConfig(nil)
}

// dockerfileConfig is the .hadolint.yaml of a build context, if any.
func dockerfileConfig(dir string) (*dockerfile.Config, error) {
	return dockerfile.LoadConfig("", dir)
}

// LintFile validates the Dockerfile at path ("-" for standard input) as
// the editor does, with the .dockerignore of its folder as the build
// context's.
func LintFile(path string, cfg *dockerfile.Config) (*dockerfile.Result, error) {
	var data []byte
	var err error
	opts := dockerfile.Options{Config: cfg}
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
		if err == nil {
			opts.Ignore, err = dockerignore.Read(filepath.Dir(path), filepath.Base(path))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return (&dockerfile.Analyzer{Options: opts}).Analyze(data), nil
}

// RuleExplanation is the learner's text for a validation rule.
func RuleExplanation(id string) (string, bool) {
	r, ok := dockerfile.RuleByID(id)
	if !ok {
		return "", false
	}
	return r.Summary + " " + r.Explanation, true
}

// SuggestTag proposes an image name for a build context: its folder's
// name, lower-cased, with ":dev".
func SuggestTag(dir string) string {
	name := strings.ToLower(filepath.Base(dir))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-_.")
	if s == "" {
		s = "app"
	}
	return s + ":dev"
}
