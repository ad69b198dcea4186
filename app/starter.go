package app

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/berth-dev/berth/assets"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/starter"
)

// StarterTag is the name the welcome tour builds its first image under.
const StarterTag = "hello:starter"

// WriteStarterSample writes the offline starter project into dir/starter:
// a Dockerfile FROM scratch, a web page, and busybox.tar, a root file
// system made from this computer's static busybox. It builds with no
// registry at hand. It returns the project's folder.
func WriteStarterSample(dir string) (string, error) {
	if runtime.GOOS != "linux" {
		return "", fmt.Errorf("the starter image is made from a Linux busybox, which this computer does not have yet: pull busybox from Docker Hub instead (the tour's last step): %w", engine.ErrNotSupported)
	}
	bb, err := starter.FindBusybox()
	if err != nil {
		return "", err
	}
	project, err := assets.WriteSample("starter", dir)
	if err != nil {
		return "", fmt.Errorf("write the starter project: %w", err)
	}
	tarball := filepath.Join(project, "busybox.tar")
	if _, err := os.Stat(tarball); err == nil {
		return project, nil
	}
	rootfs, err := starter.Rootfs(bb)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(tarball, rootfs, 0o644); err != nil {
		return "", fmt.Errorf("write the starter project: %w", err)
	}
	return project, nil
}
