package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/berth-dev/berth/engine"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// classify wraps a go-containerregistry or network error with the engine
// sentinel it means, keeping the original text for the details.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: %w", engine.ErrNotFound, err)
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%w: %w", engine.ErrUnauthorized, err)
		case terr.StatusCode >= 500:
			return fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return fmt.Errorf("%w: %w", engine.ErrNotFound, err)
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Errorf("%w: %w", engine.ErrUnauthorized, err)
			}
		}
		return err
	}
	// go-containerregistry reports a blob that does not hash to its digest
	// with an unexported error type; its wording is all there is to go by.
	if strings.Contains(err.Error(), "error verifying sha256 checksum") || strings.Contains(err.Error(), "error verifying size") {
		return fmt.Errorf("%w: %w", engine.ErrDigestMismatch, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var netErr net.Error
	var urlErr *url.Error
	var opErr *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &opErr) || errors.As(err, &netErr) || errors.As(err, &urlErr) {
		return fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
	}
	return err
}
