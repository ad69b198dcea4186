package app

import (
	"fmt"
	"io"
	"os"

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
