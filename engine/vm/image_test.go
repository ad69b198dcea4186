package vm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeArchive packs files (in order) as mkimage -archive does, with a
// SHA256SUMS first unless sums is given.
func writeArchive(t *testing.T, files [][2]string, sums string) string {
	t.Helper()
	if sums == "" {
		for _, f := range files {
			h := sha256.Sum256([]byte(f[1]))
			sums += hex.EncodeToString(h[:]) + "  " + f[0] + "\n"
		}
	}
	p := filepath.Join(t.TempDir(), ImageArchive)
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	tw := tar.NewWriter(zw)
	for _, f := range append([][2]string{{"SHA256SUMS", sums}}, files...) {
		tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg})
		tw.Write([]byte(f[1]))
	}
	tw.Close()
	zw.Close()
	out.Close()
	return p
}

func TestUnpackImage(t *testing.T) {
	image := [][2]string{{"initramfs.cpio", strings.Repeat("i", 5<<20)}, {"vmlinux", strings.Repeat("k", 9<<20)}}
	h := sha256.Sum256([]byte("another kernel"))
	wrongSums := "0000  initramfs.cpio\n" + hex.EncodeToString(h[:]) + "  vmlinux\n"
	for _, tc := range []struct {
		name    string
		archive func(t *testing.T) string
		wantErr string
	}{
		{"sound", func(t *testing.T) string { return writeArchive(t, image, "") }, ""},
		{"damaged file", func(t *testing.T) string { return writeArchive(t, image, wrongSums) }, "is damaged"},
		{"path out of the folder", func(t *testing.T) string {
			return writeArchive(t, [][2]string{{"../vmlinux", "x"}, {"initramfs.cpio", "y"}}, "")
		}, "unexpected entry"},
		{"no kernel", func(t *testing.T) string { return writeArchive(t, image[:1], "") }, "lacks vmlinux"},
		{"not an archive", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			os.WriteFile(p, []byte("not gzip"), 0o644)
			return p
		}, "unpack"},
		{"cut short", func(t *testing.T) string {
			p := writeArchive(t, image, "")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)/2], 0o644)
			return p
		}, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "berth", "vm")
			var fractions []float64
			err := UnpackImage(context.Background(), tc.archive(t), dir, func(step string, f float64) { fractions = append(fractions, f) })
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				k, _ := os.ReadFile(filepath.Join(dir, "vmlinux"))
				if string(k) != image[1][1] {
					t.Fatalf("vmlinux has %d bytes", len(k))
				}
				if len(fractions) < 2 || fractions[len(fractions)-1] < 0.99 || fractions[0] >= fractions[len(fractions)-1] {
					t.Fatalf("progress %v", fractions)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			// Nothing half-made is left where the app looks.
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("%s exists after a failed unpack: %v", dir, err)
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".vm-unpack-*"))
			if len(left) > 0 {
				t.Fatalf("left %v", left)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dir := filepath.Join(t.TempDir(), "vm")
		if err := UnpackImage(ctx, writeArchive(t, image, ""), dir, nil); err != context.Canceled {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatal("a cancelled unpack left the image folder")
		}
	})
}

// A new release's archive replaces the image unpacked before; the same
// one is not unpacked again.
func TestEnsureImageFollowsTheArchive(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	first := writeArchive(t, [][2]string{{"initramfs.cpio", "i1"}, {"vmlinux", "k1"}}, "")
	t.Setenv("BERTH_VM_IMAGE", first)
	calls := 0
	dir, err := EnsureImage(context.Background(), func(string, float64) { calls++ })
	if err != nil || calls == 0 {
		t.Fatalf("first use: %v, %d progress reports", err, calls)
	}
	calls = 0
	if again, err := EnsureImage(context.Background(), func(string, float64) { calls++ }); err != nil || again != dir || calls != 0 {
		t.Fatalf("second use unpacked again: %v %v %d", again, err, calls)
	}
	t.Setenv("BERTH_VM_IMAGE", writeArchive(t, [][2]string{{"initramfs.cpio", "i2"}, {"vmlinux", "k2"}}, ""))
	if _, err := EnsureImage(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if k, _ := os.ReadFile(filepath.Join(dir, "vmlinux")); string(k) != "k2" {
		t.Fatalf("vmlinux = %q after a new release", k)
	}
}

// The VM's disk holds the user's images: it lives in a data directory,
// and a disk that earlier builds left in the cache moves there intact.
func TestDefaultStateDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the XDG layout is Linux's")
	}
	tmp := t.TempDir()
	t.Setenv("HOME", filepath.Join(tmp, "home"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	t.Setenv("XDG_DATA_HOME", "")
	want := filepath.Join(tmp, "home", ".local", "share", "berth", "vm")
	if dir, err := DefaultStateDir(); err != nil || dir != want {
		t.Fatalf("no XDG_DATA_HOME: %q %v, want %q", dir, err, want)
	}

	t.Setenv("XDG_DATA_HOME", filepath.Join(tmp, "data"))
	old := filepath.Join(tmp, "cache", "berth", "vm-state")
	os.MkdirAll(old, 0o700)
	os.WriteFile(filepath.Join(old, "data.img"), []byte("the user's images"), 0o600)
	want = filepath.Join(tmp, "data", "berth", "vm")
	for i := 0; i < 2; i++ { // the second call finds it in place
		dir, err := DefaultStateDir()
		if err != nil || dir != want {
			t.Fatalf("call %d: %q %v, want %q", i, dir, err, want)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "data.img")); err != nil || string(b) != "the user's images" {
			t.Fatalf("call %d: the disk after the move: %q %v", i, b, err)
		}
	}
	if fileExists(old) {
		t.Error("the old state folder is still in the cache")
	}
}

// The busybox a VM image's init runs is read back out of its initramfs,
// whatever comes before and after it; a name that is not there, or bytes
// that are not a cpio archive, say so.
func TestImageBusybox(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	bb := bytes.Repeat([]byte("busybox!"), 1001) // a length that needs padding
	if err := WriteCpio(&buf, map[string]CpioFile{"init": {Data: []byte("#!init"), Mode: 0o755}, "bin/busybox": {Data: bb, Mode: 0o755},
		"bin/sh": {Link: "busybox"}, "lib/modules/x.ko": {Data: []byte("ko"), Mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "initramfs.cpio"), buf.Bytes(), 0o644)
	got, err := ImageBusybox(dir)
	if err != nil || !bytes.Equal(got, bb) {
		t.Fatalf("ImageBusybox: %d bytes, %v; want the %d written", len(got), err, len(bb))
	}
	if _, err := ReadCpioFile(bytes.NewReader(buf.Bytes()), "bin/sh"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a symlink read as a file: %v", err)
	}
	if _, err := ReadCpioFile(bytes.NewReader(buf.Bytes()), "bin/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := ReadCpioFile(strings.NewReader(strings.Repeat("MZ, not a cpio archive ", 10)), "bin/busybox"); err == nil || !strings.Contains(err.Error(), "not a newc archive") {
		t.Errorf("a file that is no cpio archive: %v", err)
	}
}
