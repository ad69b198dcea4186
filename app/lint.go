package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/engine/dockerfile"
)

// LintFile validates the Dockerfile at path ("-" for standard input).
func LintFile(path string) (*dockerfile.Result, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return dockerfile.Analyze(data), nil
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
