package enginetest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/starter"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = starter.BusyboxPath

// BusyboxRootfs returns an uncompressed tar of a minimal root filesystem
// from Debian's static busybox: the starter image's (engine/starter).
func BusyboxRootfs() ([]byte, error) {
	if _, err := os.Stat(BusyboxPath); err != nil {
		return nil, fmt.Errorf("busybox-static is needed (apt-get install busybox-static): %w", err)
	}
	return starter.Rootfs(BusyboxPath)
}

// BusyboxImage builds a runnable single-layer busybox image (Docker media
// types, linux/amd64 or the host's architecture, CMD ["sh"]).
func BusyboxImage() (v1.Image, error) {
	rootfs, err := BusyboxRootfs()
	if err != nil {
		return nil, err
	}
	return busyboxImage(rootfs, hostArch())
}

// BusyboxArm64 is the busybox image for linux/arm64, from the arm64
// busybox of Debian's busybox-static at $BERTH_TEST_BUSYBOX_ARM64
// (packaging/dev/setup.sh test fetches it); the test skips, saying so,
// without it.
func BusyboxArm64(t testing.TB) v1.Image {
	t.Helper()
	path := os.Getenv("BERTH_TEST_BUSYBOX_ARM64")
	if path == "" {
		t.Skip("no arm64 busybox (packaging/dev/setup.sh test fetches Debian's into /var/tmp/berth-test-tools and sets BERTH_TEST_BUSYBOX_ARM64)")
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rootfs, err := starter.RootfsOf(bin)
	if err != nil {
		t.Fatal(err)
	}
	img, err := busyboxImage(rootfs, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func busyboxImage(rootfs []byte, arch string) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.DockerManifestSchema2), mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
			CreatedBy: "/bin/sh -c #(nop) ADD file:busybox-static in / ",
		},
	})
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	if arch == "arm64" {
		cfg.Variant = "v8"
	}
	cfg.Created = v1.Time{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg.Config.Cmd = []string{"sh"}
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.History = append(cfg.History, v1.History{
		Created:    cfg.Created,
		CreatedBy:  `/bin/sh -c #(nop)  CMD ["sh"]`,
		EmptyLayer: true,
	})
	return mutate.ConfigFile(img, cfg)
}
