package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/berth-dev/berth/engine/layers"
)

// Saver exports images as a `docker save` tarball: berthd does, and so do
// Docker and Podman through the same API.
type Saver interface {
	Save(ctx context.Context, names []string, w io.Writer) error
}

// ImageLayers analyses an image the engine has. The engine's export
// streams straight into the analysis, which reads only tar headers and
// writes nothing to disk.
func ImageLayers(ctx context.Context, engine Saver, image string) (*layers.Analysis, error) {
	pr, pw := io.Pipe()
	saved := make(chan error, 1)
	go func() {
		err := engine.Save(ctx, []string{image}, pw)
		pw.CloseWithError(err)
		saved <- err
	}()
	a, err := layers.FromArchiveStream(pr, image)
	pr.CloseWithError(io.ErrClosedPipe) // stop the export if the analysis ended early
	// An export that failed (unknown image, engine down) explains more
	// than the archive it cut short.
	if saveErr := <-saved; saveErr != nil && !errors.Is(saveErr, io.ErrClosedPipe) {
		return nil, saveErr
	}
	if err != nil {
		return nil, fmt.Errorf("analyse %s: %w", image, err)
	}
	return a, nil
}
