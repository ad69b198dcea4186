package store

import (
	"fmt"
	"path"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// Whiteout names from the OCI image spec: ".wh.x" deletes x from lower
// layers, ".wh..wh..opq" hides everything the lower layers had in a directory.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// cleanEntryPath turns a tar entry name into a path relative to the layer
// root, refusing names that climb out of it ("../../etc/passwd", absolute
// paths are taken as relative to the root, as tar does).
func cleanEntryPath(name string) (string, error) {
	p := path.Clean("/" + strings.TrimPrefix(name, "./"))
	if p == "/" {
		return "", nil
	}
	rel := strings.TrimPrefix(p, "/")
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the layer root: %w", name, engine.ErrUnsafeLayer)
		}
	}
	return rel, nil
}
