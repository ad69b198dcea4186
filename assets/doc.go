// Package assets embeds the files Berth ships inside its binaries: the
// application icon now, sample projects and rule docs as the app grows.
package assets

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

// Icon is Berth's application icon (256×256 PNG): an image's layers, stacked.
//
//go:embed icon.png
var Icon []byte

//go:embed samples
var samples embed.FS

// WriteSample copies the sample project name ("starter") into dir/name,
// leaving files that exist alone, and returns the project's folder.
func WriteSample(name, dir string) (string, error) {
	root := filepath.Join(dir, name)
	sub, err := fs.Sub(samples, "samples/"+name)
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(root, p)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if _, err := os.Stat(target); err == nil {
			return nil
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	return root, err
}
