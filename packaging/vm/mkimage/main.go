// Command mkimage builds Berth's VM image from pinned Debian packages:
// an uncompressed kernel (vmlinux, for a direct PVH boot without the
// in-guest decompression that costs seconds under emulation) and an
// uncompressed initramfs holding the init, busybox, the kernel modules in load order
// and a static berthd. Entries are sorted and times and owners zeroed, so
// two builds give byte-identical files.
//
//	go run ./packaging/vm/mkimage -out dist/vm [-cache DIR]
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-dev/berth/engine/vm"
)

func main() {
	out := flag.String("out", "dist/vm", "where to write vmlinux, initramfs.cpio and SHA256SUMS")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "berth-vm-cache"), "where downloaded Debian packages are kept")
	root := flag.String("src", ".", "the Berth source tree")
	flag.Parse()
	if err := build(*root, *cache, *out); err != nil {
		log.Fatal("mkimage: ", err)
	}
}

type pkg struct{ name, version string }

func readList(p string) ([]string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, nil
}

func build(root, cache, out string) error {
	lines, err := readList(filepath.Join(root, "packaging", "vm", "packages.txt"))
	if err != nil {
		return err
	}
	var pkgs []pkg
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 2 {
			return fmt.Errorf("packages.txt: %q: want NAME VERSION", l)
		}
		pkgs = append(pkgs, pkg{f[0], f[1]})
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	debs := map[string]string{}
	for _, p := range pkgs {
		deb, err := download(cache, p)
		if err != nil {
			return err
		}
		debs[p.name] = deb
	}
	kernelPkg := pkgs[0].name
	kver := strings.TrimPrefix(kernelPkg, "linux-image-")
	kfiles, err := debFiles(debs[kernelPkg], func(name string) bool {
		return name == "./boot/vmlinuz-"+kver || strings.HasPrefix(name, "./lib/modules/"+kver+"/kernel/") && strings.HasSuffix(name, ".ko")
	})
	if err != nil {
		return err
	}
	vmlinux, err := decompressKernel(kfiles["./boot/vmlinuz-"+kver])
	if err != nil {
		return err
	}
	wanted, err := readList(filepath.Join(root, "packaging", "vm", "modules.txt"))
	if err != nil {
		return err
	}
	order, err := moduleOrder(kfiles, wanted)
	if err != nil {
		return err
	}
	bb, err := debFiles(debs["busybox-static"], func(name string) bool { return name == "./bin/busybox" })
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "berth-mkimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	initBin, berthd := filepath.Join(tmp, "init"), filepath.Join(tmp, "berthd")
	if err := goBuild(root, initBin, "./packaging/vm/init", false); err != nil {
		return err
	}
	if err := goBuild(root, berthd, "./cmd/berthd", true); err != nil {
		return err
	}
	files := map[string]vm.CpioFile{
		"init":        {Data: mustRead(initBin), Mode: 0o755},
		"berthd":      {Data: mustRead(berthd), Mode: 0o755},
		"bin/busybox": {Data: bb["./bin/busybox"], Mode: 0o755},
	}
	var list []string
	for _, m := range order {
		dst := "lib/modules/" + path.Base(m)
		files[dst] = vm.CpioFile{Data: kfiles[m], Mode: 0o644}
		list = append(list, "/"+dst)
	}
	files["etc/modules.order"] = vm.CpioFile{Data: []byte(strings.Join(list, "\n") + "\n"), Mode: 0o644}
	for _, l := range []string{"sh", "mke2fs", "ls", "cat", "ip", "mount"} {
		files["bin/"+l] = vm.CpioFile{Link: "busybox"}
	}
	var cpio bytes.Buffer
	if err := vm.WriteCpio(&cpio, files); err != nil {
		return err
	}
	// Uncompressed: under emulation the kernel spends over a second
	// inflating a gzip initramfs (measured: /init at 1.5 s instead of 2.8 s).

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	sums := ""
	for _, a := range []struct {
		name string
		data []byte
	}{{"vmlinux", vmlinux}, {"initramfs.cpio", cpio.Bytes()}} {
		if err := os.WriteFile(filepath.Join(out, a.name), a.data, 0o644); err != nil {
			return err
		}
		h := sha256.Sum256(a.data)
		sums += hex.EncodeToString(h[:]) + "  " + a.name + "\n"
	}
	if err := os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(sums), 0o644); err != nil {
		return err
	}
	fmt.Print(sums)
	return nil
}

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// download fetches a pinned package into the cache (apt-get download,
// from the machine's Debian mirror) unless it is there.
func download(cache string, p pkg) (string, error) {
	ver := strings.ReplaceAll(p.version, ":", "%3a")
	matches, _ := filepath.Glob(filepath.Join(cache, p.name+"_"+ver+"_*.deb"))
	if len(matches) > 0 {
		return matches[0], nil
	}
	cmd := exec.Command("apt-get", "download", p.name+"="+p.version)
	cmd.Dir = cache
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s=%s: %v\n%s", p.name, p.version, err, out)
	}
	matches, _ = filepath.Glob(filepath.Join(cache, p.name+"_"+ver+"_*.deb"))
	if len(matches) == 0 {
		return "", fmt.Errorf("apt-get download %s left no .deb", p.name)
	}
	return matches[0], nil
}

// debFiles reads the files of a .deb that keep selects.
func debFiles(deb string, keep func(string) bool) (map[string][]byte, error) {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dpkg-deb: %w", err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(stdout)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", deb, err)
		}
		if hdr.Typeflag == tar.TypeReg && keep(hdr.Name) {
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			out[hdr.Name] = data
		}
	}
	return out, cmd.Wait()
}

// decompressKernel turns a bzImage into the plain ELF vmlinux inside it
// (what scripts/extract-vmlinux does). The payload is XZ with the x86
// branch filter, which Go's XZ readers do not implement: xz-utils does.
func decompressKernel(bz []byte) ([]byte, error) {
	magic := []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	for off := 0; ; {
		i := bytes.Index(bz[off:], magic)
		if i < 0 {
			return nil, errors.New("no XZ payload in the kernel image")
		}
		cmd := exec.Command("xz", "-dc", "--single-stream")
		cmd.Stdin = bytes.NewReader(bz[off+i:])
		data, _ := cmd.Output()
		if len(data) > 4 && bytes.Equal(data[:4], []byte("\x7fELF")) {
			return data, nil
		}
		off += i + 1
	}
}

// moduleOrder lists the wanted modules and what they depend on (the
// .modinfo "depends=" field), dependencies first.
func moduleOrder(files map[string][]byte, wanted []string) ([]string, error) {
	byName := map[string]string{}
	for p := range files {
		if strings.HasSuffix(p, ".ko") {
			byName[strings.ReplaceAll(strings.TrimSuffix(path.Base(p), ".ko"), "-", "_")] = p
		}
	}
	var order []string
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		name = strings.ReplaceAll(name, "-", "_")
		if seen[name] {
			return nil
		}
		seen[name] = true
		p, ok := byName[name]
		if !ok {
			return nil // built into the kernel
		}
		deps, err := modDepends(files[p])
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, p)
		return nil
	}
	for _, w := range wanted {
		if _, ok := byName[strings.ReplaceAll(w, "-", "_")]; !ok {
			continue // built in
		}
		if err := visit(w); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func modDepends(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok && len(v) > 0 {
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}

// goBuild builds a Linux binary for the VM: static, reproducible
// (-trimpath, no build ID); berthd needs cgo (libcontainer's nsenter) and
// is linked statically against glibc.
func goBuild(root, out, pkg string, cgo bool) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-o", out}
	env := append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	if cgo {
		args = append(args, "-tags", "netgo,osusergo", "-ldflags", "-s -w -buildid= -linkmode external -extldflags -static")
		env = append(env, "CGO_ENABLED=1")
	} else {
		args = append(args, "-ldflags", "-s -w -buildid=")
		env = append(env, "CGO_ENABLED=0")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir, cmd.Env = root, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return nil
}
