package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"time"

	"github.com/berth-dev/berth/engine"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Import is docker import: an image of one layer, the file system in
// archive (a tar, compressed or not), for this machine's platform. The
// layer is unpacked and checked as a pulled one is (nothing may leave its
// root). It returns the image ID.
func (s *Store) Import(ctx context.Context, archive io.Reader, names []string, comment string) (string, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "import-")
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, archive); err != nil {
		return "", fmt.Errorf("import: read the archive: %w", err)
	}
	layer, err := tarball.LayerFromFile(f.Name())
	if err != nil {
		return "", fmt.Errorf("import: %v: %w", err, engine.ErrInvalidArgument)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	cfg = cfg.DeepCopy()
	now := v1.Time{Time: time.Now().UTC()}
	cfg.OS, cfg.Architecture, cfg.Created = "linux", goruntime.GOARCH, now
	cfg.History = []v1.History{{Created: now, CreatedBy: "Imported from -", Comment: comment}}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	return s.Put(ctx, img, PutOptions{Names: names})
}
