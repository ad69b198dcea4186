package app

import (
	"errors"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
)

// Explain words an engine error for a person, with what to do next. This
// is the one place such wording lives; the error's own text stays as the
// detail.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var hint string
	var sshErr *client.SSHError
	switch {
	case errors.As(err, &sshErr):
		return err.Error() // worded with what to do already
	case errors.Is(err, engine.ErrEngineUnreachable):
		hint = "Berth's engine did not answer. Is the engine running? The app starts it; in a terminal: berth engine start"
	case errors.Is(err, engine.ErrUnavailable):
		hint = registryUnreachable(err.Error())
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

// registryUnreachable words why a registry (the engine answered) could not
// be reached, for the cause the network error names.
func registryUnreachable(msg string) string {
	switch {
	case strings.Contains(msg, "no such host") || strings.Contains(msg, "server misbehaving") || strings.Contains(msg, "Temporary failure in name resolution"):
		return "The registry's name could not be looked up: are you online? Check the name too (a registry's host, like ghcr.io or 127.0.0.1:5000)."
	case strings.Contains(msg, "connection refused"):
		return "The registry refused the connection: is it running, and is its port right?"
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline exceeded"):
		return "The registry did not answer in time: check your connection (a proxy or firewall?), then try again."
	case strings.Contains(msg, "the registry failed"):
		return "The registry failed on its side. Try again later."
	case strings.Contains(msg, "network is unreachable"):
		return "This computer has no network route to the registry: are you online?"
	}
	return "The registry could not be reached: check your network connection, then try again."
}
