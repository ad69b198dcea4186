package store

import (
	"errors"
	"fmt"

	"github.com/berth-dev/berth/engine"
)

// ErrLocked means another process (another berthd) owns the data root.
var ErrLocked = errors.New("data root is in use by another process")

// notFound wraps engine.ErrNotFound with the name that was looked up, in the
// words docker uses so scripts that grep for them keep working.
func notFound(name string) error {
	return fmt.Errorf("No such image: %s: %w", name, engine.ErrNotFound)
}
