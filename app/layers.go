package app

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/berth-dev/berth/engine/layers"
)

// Saver exports images as a `docker save` tarball: berthd does, and so do
// Docker and Podman through the same API.
type Saver interface {
	Save(ctx context.Context, names []string, w io.Writer) error
}

// ImageLayers analyses an image the engine has. The engine exports it to
// a temporary file; the analysis reads only the layers' tar headers.
func ImageLayers(ctx context.Context, engine Saver, image string) (*layers.Analysis, error) {
	f, err := os.CreateTemp("", "berth-layers-*.tar")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := engine.Save(ctx, []string{image}, f); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	a, err := layers.FromTarball(f.Name(), image)
	if err != nil {
		return nil, fmt.Errorf("analyse %s: %w", image, err)
	}
	return a, nil
}
