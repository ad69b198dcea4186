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
	for _, want := range []string{"init", "berthd", "bin/busybox", "etc/modules.order", "lib/modules/virtio_net.ko", "lib/modules/ext4.ko", "lib/modules/overlay.ko",
		// mke2fs and e2fsck with the libraries and loader they need
		"sbin/mke2fs", "sbin/e2fsck", "etc/mke2fs.conf", "lib64/ld-linux-x86-64.so.2",
		"lib/x86_64-linux-gnu/libext2fs.so.2", "lib/x86_64-linux-gnu/libe2p.so.2", "lib/x86_64-linux-gnu/libc.so.6"} {
		if !strings.Contains("\n"+string(list), "\n"+want+"\n") {
			t.Errorf("the initramfs lacks %s", want)
		}
	}
}

// Modules load level by level, side by side within a level: every
// module's dependencies sit at lower levels.
func TestModuleLevels(t *testing.T) {
	kernel, err := filepath.Glob(filepath.Join(os.TempDir(), "berth-vm-cache", "linux-image-*.deb"))
	if err != nil || len(kernel) == 0 || testing.Short() {
		t.Skip("the kernel package is not in the cache (TestImageIsReproducible downloads it)")
	}
	files, err := debFiles(kernel[0], func(name string) bool { return strings.HasSuffix(name, ".ko") })
	if err != nil {
		t.Fatal(err)
	}
	order, err := moduleOrder(files, []string{"ext4", "virtio_net", "bridge"})
	if err != nil {
		t.Fatal(err)
	}
	level := map[string]int{}
	for _, m := range order {
		level[strings.TrimSuffix(filepath.Base(m.path), ".ko")] = m.level
	}
	for _, dep := range [][2]string{{"jbd2", "ext4"}, {"mbcache", "ext4"}, {"virtio", "virtio_net"}, {"virtio_ring", "virtio"}, {"stp", "bridge"}, {"llc", "stp"}} {
		d, okd := level[dep[0]]
		m, okm := level[dep[1]]
		if !okd || !okm || d >= m {
			t.Errorf("%s (level %d, %v) must load before %s (level %d, %v)", dep[0], d, okd, dep[1], m, okm)
		}
	}
	for _, m := range order {
		if stripped := stripSignature(files[m.path]); len(stripped) >= len(files[m.path]) {
			t.Errorf("%s: no signature stripped", m.path)
		}
	}
}

func TestStripSignature(t *testing.T) {
	body := []byte("\x7fELF module body")
	sig := bytes.Repeat([]byte{0xaa}, 300)
	info := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 44} // struct module_signature, sig_len 300
	signed := append(append(append(append([]byte{}, body...), sig...), info...), "~Module signature appended~\n"...)
	if got := stripSignature(signed); !bytes.Equal(got, body) {
		t.Fatalf("stripped to %q", got)
	}
	if got := stripSignature(body); !bytes.Equal(got, body) {
		t.Fatalf("an unsigned module changed: %q", got)
	}
	if got := stripSignature([]byte("~Module signature appended~\n")); len(got) != 28 {
		t.Fatalf("a bare marker was cut to %q", got)
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
