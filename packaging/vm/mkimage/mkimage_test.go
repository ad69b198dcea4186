package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine/vm"
)

// Two builds of the VM image from the pinned Debian packages give
// byte-identical artefacts, and the initramfs holds what init needs.
func TestImageIsReproducible(t *testing.T) {
	for _, tool := range []string{"apt-get", "dpkg-deb", "xz", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is needed to build the VM image from Debian packages", tool)
		}
	}
	if testing.Short() {
		t.Skip("-short: the VM image build downloads a kernel package and links berthd statically")
	}
	cache := filepath.Join(os.TempDir(), "berth-vm-cache")
	root := filepath.Join("..", "..", "..")
	a, b := t.TempDir(), t.TempDir()
	if err := build(root, cache, a); err != nil {
		if strings.Contains(err.Error(), "apt-get download") {
			// Debian's mirror drops superseded kernels: packages.txt
			// must then be moved to the current versions.
			t.Skipf("the pinned Debian packages cannot be downloaded (update packaging/vm/packages.txt): %v", err)
		}
		t.Fatal(err)
	}
	if err := build(root, cache, b); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vmlinux", "initramfs.cpio", "SHA256SUMS"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds (%d and %d bytes)", f, len(x), len(y))
		}
	}
	k, _ := os.ReadFile(filepath.Join(a, "vmlinux"))
	if !bytes.HasPrefix(k, []byte("\x7fELF")) {
		t.Fatal("vmlinux is not an uncompressed ELF kernel")
	}
	list, err := exec.Command("sh", "-c", "cpio -t < "+filepath.Join(a, "initramfs.cpio")+" 2>/dev/null").Output()
	if err != nil {
		t.Skipf("cpio is not installed to list the initramfs: %v", err)
	}
	for _, want := range []string{"init", "berthd", "bin/busybox", "etc/modules.order", "lib/modules/virtio_net.ko", "lib/modules/ext4.ko", "lib/modules/overlay.ko"} {
		if !strings.Contains("\n"+string(list), "\n"+want+"\n") {
			t.Errorf("the initramfs lacks %s", want)
		}
	}
}

func TestCpioEntriesAreSortedAndTimeless(t *testing.T) {
	var buf bytes.Buffer
	if err := vm.WriteCpio(&buf, map[string]vm.CpioFile{"b/x": {Data: []byte("hi"), Mode: 0o644}, "a": {Link: "target"}}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	ia, ib, ibx := strings.Index(s, "a\x00"), strings.Index(s, "b\x00"), strings.Index(s, "b/x\x00")
	if ia < 0 || ib < 0 || ibx < 0 || !(ia < ib && ib < ibx) {
		t.Fatalf("order a=%d b=%d b/x=%d", ia, ib, ibx)
	}
	if !strings.HasSuffix(strings.TrimRight(s, "\x00"), "TRAILER!!!") {
		t.Fatal("no trailer")
	}
	var again bytes.Buffer
	vm.WriteCpio(&again, map[string]vm.CpioFile{"a": {Link: "target"}, "b/x": {Data: []byte("hi"), Mode: 0o644}})
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("the same files gave different archives")
	}
}
