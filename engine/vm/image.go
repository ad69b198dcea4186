package vm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
)

// ImageArchive is the packaged VM image installers put beside the app's
// binary; the app unpacks it into the data directory on first use.
const ImageArchive = "berth-vm-image.tar.gz"

// Progress hears how long work is going: fraction in [0, 1], or -1 when
// it cannot be told.
type Progress func(step string, fraction float64)

// imageDirs are where a ready VM image may be: beside the app's binary
// (vm/), a source checkout's dist/vm (packaging/dev/setup.sh puts the
// binary in bin/), and the data directory.
func imageDirs() (beside []string, data string) {
	if exe, err := os.Executable(); err == nil {
		beside = append(beside, filepath.Join(filepath.Dir(exe), "vm"), filepath.Join(filepath.Dir(exe), "..", "dist", "vm"))
	}
	if d, err := os.UserCacheDir(); err == nil {
		data = filepath.Join(d, "berth", "vm")
	}
	return beside, data
}

// ImageBusybox is the static busybox in the VM image in dir, the one its
// Linux runs: what an image for the VM's engine can be made from on a
// computer that has no Linux busybox of its own.
func ImageBusybox(dir string) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, "initramfs.cpio"))
	if err != nil {
		return nil, fmt.Errorf("the VM image's busybox: %w", err)
	}
	defer f.Close()
	return ReadCpioFile(f, "bin/busybox")
}

func hasImage(dir string) bool {
	for _, f := range []string{"vmlinux", "initramfs.cpio"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return dir != ""
}

// EnsureImage finds the VM image, or makes it on first use: a ready
// image beside the binary; else the packaged archive beside the binary,
// unpacked into the data directory (again when a new release brings a
// different one); else one unpacked before; else, in a source checkout,
// one built there with mkimage. BERTH_VM_IMAGE names an image directory
// or archive to use instead (for packagers and tests).
func EnsureImage(ctx context.Context, progress Progress) (string, error) {
	beside, data := imageDirs()
	archive := os.Getenv("BERTH_VM_IMAGE")
	if archive != "" && hasImage(archive) {
		return archive, nil
	}
	if archive == "" {
		for _, d := range beside {
			if hasImage(d) {
				return d, nil
			}
		}
		if exe, err := os.Executable(); err == nil {
			if a := filepath.Join(filepath.Dir(exe), ImageArchive); fileExists(a) {
				archive = a
			}
		}
	}
	if data == "" {
		return "", fmt.Errorf("no data directory for Berth's VM image: %w", engine.ErrNotFound)
	}
	if archive != "" {
		if hasImage(data) && sameSums(archive, data) {
			return data, nil
		}
		return data, UnpackImage(ctx, archive, data, progress)
	}
	if hasImage(data) {
		return data, nil
	}
	if exe, err := os.Executable(); err == nil {
		if src := sourceTree(filepath.Dir(exe)); src != "" {
			return data, buildImageFromSource(ctx, src, data, progress)
		}
	}
	return "", fmt.Errorf("Berth's VM image is missing: reinstall Berth (it ships %s beside the app), or build it with go run ./packaging/vm/mkimage -out dist/vm (looked in %v): %w",
		ImageArchive, append(beside, data), engine.ErrNotFound)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// UnpackImage unpacks a VM image archive into dir, checking every file
// against the archive's SHA256SUMS. The files appear in dir only when all
// are there and sound.
func UnpackImage(ctx context.Context, archive, dir string, progress Progress) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".vm-unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	counted := iox.NewCountingReader(bufio.NewReaderSize(f, 1<<20))
	zr, err := gzip.NewReader(counted)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", archive, err)
	}
	sums := map[string]string{}
	got := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
		name := filepath.Base(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || name != hdr.Name {
			return fmt.Errorf("unpack %s: unexpected entry %q", archive, hdr.Name)
		}
		h := sha256.New()
		out, err := os.Create(filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		w := io.MultiWriter(out, h)
		for {
			_, err = io.CopyN(w, tr, 4<<20)
			if progress != nil {
				progress("Unpacking Berth's VM image (first use)", float64(counted.Count())/float64(max(fi.Size(), 1)))
			}
			if err != nil || ctx.Err() != nil {
				break
			}
		}
		out.Close()
		if err != io.EOF {
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
		got[name] = hex.EncodeToString(h.Sum(nil))
		if name == "SHA256SUMS" {
			for _, line := range strings.Split(mustReadString(filepath.Join(tmp, name)), "\n") {
				if sum, file, ok := strings.Cut(line, "  "); ok {
					sums[file] = sum
				}
			}
		}
	}
	if len(sums) == 0 {
		return fmt.Errorf("unpack %s: the archive has no SHA256SUMS", archive)
	}
	for file, sum := range sums {
		if got[file] != sum {
			return fmt.Errorf("unpack %s: %s is damaged (sha256 %s, want %s): download Berth again", archive, file, got[file], sum)
		}
	}
	if !hasImage(tmp) {
		return fmt.Errorf("unpack %s: the archive lacks vmlinux or initramfs.cpio", archive)
	}
	os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

// sameSums says whether the image unpacked in dir is the one in archive
// (their SHA256SUMS match), so a new release's image replaces the old.
func sameSums(archive, dir string) bool {
	f, err := os.Open(archive)
	if err != nil {
		return false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "SHA256SUMS" {
		return false
	}
	sums, err := io.ReadAll(tr)
	return err == nil && string(sums) == mustReadString(filepath.Join(dir, "SHA256SUMS"))
}

func mustReadString(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// sourceTree is the Berth checkout the binary was built in, if any.
func sourceTree(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/berth-dev/berth\n")) {
			if _, err := os.Stat(filepath.Join(d, "packaging", "vm", "mkimage")); err == nil {
				return d
			}
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func buildImageFromSource(ctx context.Context, src, dir string, progress Progress) error {
	if progress != nil {
		progress("Building Berth's VM image from Debian packages (first use)", -1)
	}
	cmd := exec.CommandContext(ctx, "go", "run", "./packaging/vm/mkimage", "-out", dir)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("build the VM image: %v\n%s", err, out)
	}
	return nil
}
