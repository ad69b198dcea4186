package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/berth-dev/berth/engine"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// kindError gives an error an engine sentinel (for errors.Is) and a
// message a person can read, keeping the original for errors.As.
type kindError struct {
	kind error
	msg  string
	err  error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }
func (e *kindError) Unwrap() error        { return e.err }

// classify wraps a go-containerregistry or network error with the engine
// sentinel it means, in the registry's own words where it gave some.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return err
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		msg := registryMessage(terr)
		switch {
		case hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode) || terr.StatusCode == 404:
			return &kindError{engine.ErrNotFound, "not found: " + msg, err}
		case hasCode(terr, transport.UnauthorizedErrorCode, transport.DeniedErrorCode) || terr.StatusCode == 401 || terr.StatusCode == 403:
			return &kindError{engine.ErrUnauthorized, "access denied (log in with `docker login`, or check the name): " + msg, err}
		case terr.StatusCode >= 500:
			return &kindError{engine.ErrUnavailable, "the registry failed: " + msg, err}
		}
		return err
	}
	// go-containerregistry reports a blob that does not hash to its digest
	// with an unexported error type; its wording is all there is to go by.
	if s := err.Error(); strings.Contains(s, "error verifying sha256 checksum") || strings.Contains(s, "error verifying size") {
		return &kindError{engine.ErrDigestMismatch, "the registry sent content that does not match its digest: " + s, err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// A local file system error (a full disk, a name too long) is not the
	// network's, though a syscall.Errno satisfies net.Error.
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	if errors.As(err, &pathErr) || errors.As(err, &linkErr) {
		return err
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) && !isErrno(err) {
		return &kindError{engine.ErrUnavailable, "cannot reach the registry: " + lastLine(err), err}
	}
	return err
}

func registryMessage(terr *transport.Error) string {
	var parts []string
	for _, d := range terr.Errors {
		if d.Message != "" {
			parts = append(parts, d.Message)
		} else {
			parts = append(parts, string(d.Code))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d from %s", terr.StatusCode, terr.Request.URL.Host)
	}
	return strings.Join(parts, "; ")
}

func hasCode(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// lastLine keeps the innermost of go-containerregistry's "https failed;
// http failed" pair, the one that names the actual cause.
func lastLine(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "; "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// isErrno says whether err is a bare system call error (ENOENT, EEXIST,
// ENAMETOOLONG …) rather than a network one.
func isErrno(err error) bool {
	var errno syscall.Errno
	var opErr *net.OpError
	return errors.As(err, &errno) && !errors.As(err, &opErr)
}
