package engine

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every implementation. Implementations wrap them
// with context; callers test with errors.Is. The api package maps them to
// HTTP status codes, and the app maps them to wording a beginner can act on.
var (
	// ErrNotFound: no such image, tag, repository or blob.
	ErrNotFound = errors.New("not found")
	// ErrInvalidReference: an image name that cannot be parsed.
	ErrInvalidReference = errors.New("invalid reference format")
	// ErrConflict: the operation would break something that depends on the
	// target (an image used by a container, an ID that names several repositories).
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized: the registry refused the credentials, or needs some.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnavailable: the registry (or another remote) could not be reached.
	ErrUnavailable = errors.New("unavailable")
	// ErrDigestMismatch: content did not hash to the digest it was announced under.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrUnsafeLayer: a layer archive tried to write outside its root.
	ErrUnsafeLayer = errors.New("unsafe layer archive")
	// ErrInvalidArgument: a malformed request (bad filter, empty name, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotSupported: the operation does not exist on this platform or engine.
	ErrNotSupported = errors.New("not supported")
	// ErrForbidden: the target refuses the operation (a read-only file system).
	ErrForbidden = errors.New("forbidden")
	// ErrDetached: a client typed the detach keys; its input ends there
	// and the container goes on (not an end of input).
	ErrDetached = errors.New("read escape sequence")
)

// ErrEngineUnreachable: the engine itself did not answer (not a registry
// behind it). It is an ErrUnavailable too.
var ErrEngineUnreachable = fmt.Errorf("engine unreachable: %w", ErrUnavailable)
