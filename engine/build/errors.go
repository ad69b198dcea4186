package build

import (
	"fmt"

	"github.com/berth-dev/berth/engine"
)

// SyntaxError is a Dockerfile that cannot be parsed.
type SyntaxError struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

func (e *SyntaxError) Is(target error) bool { return target == engine.ErrInvalidArgument }
