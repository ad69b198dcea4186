package store

import (
	"errors"

	"github.com/berth-dev/berth/engine"
)

// ErrLocked means another process (another berthd) owns the data root.
var ErrLocked = errors.New("data root is in use by another process")

// notFoundError is a missing image, worded as docker words it so scripts
// that match "No such image" keep working.
type notFoundError struct{ name string }

func (e notFoundError) Error() string        { return "No such image: " + e.name }
func (e notFoundError) Is(target error) bool { return target == engine.ErrNotFound }

func notFound(name string) error { return notFoundError{name} }
