package app

import (
	"errors"

	"github.com/berth-dev/berth/engine"
)

// Explain words an engine error for a person, with what to do next. This
// is the one place such wording lives; the error's own text stays as the
// detail.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var hint string
	switch {
	case errors.Is(err, engine.ErrUnavailable):
		hint = "Berth's engine (or the registry) did not answer. Is the engine running? The app starts it; in a terminal: berth engine start"
	case errors.Is(err, engine.ErrNotFound):
		hint = "Not found. Check the name and tag (docker images lists what is here; docker pull fetches an image)."
	case errors.Is(err, engine.ErrInvalidReference):
		hint = "That is not a valid image name: lowercase letters, digits and . _ - / : only, like python:3.12 or localhost:5000/app."
	case errors.Is(err, engine.ErrUnauthorized):
		hint = "The registry wants you to log in first: docker login <registry>."
	case errors.Is(err, engine.ErrDigestMismatch):
		hint = "The registry sent damaged or altered data; nothing was kept. Try again, or use another registry or mirror."
	case errors.Is(err, engine.ErrConflict):
		hint = "Something depends on it (a container using the image, a name in use). Remove that first, or force."
	case errors.Is(err, engine.ErrUnsafeLayer):
		hint = "The image contains a layer that tries to write outside its own files; Berth refused it."
	default:
		return err.Error()
	}
	return hint + "\n  (" + err.Error() + ")"
}
