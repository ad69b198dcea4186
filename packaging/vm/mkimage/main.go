// Command mkimage builds Berth's VM image from pinned Debian packages:
// an uncompressed kernel (vmlinux, for a direct PVH boot without the
// in-guest decompression that costs seconds under emulation) and an
// uncompressed initramfs holding the init, busybox, the kernel modules in load order
// and a static berthd. Entries are sorted and times and owners zeroed, so
// two builds give byte-identical files.
//
//	go run ./packaging/vm/mkimage -out dist/vm [-cache DIR] [-archive dist/berth-vm-image.tar.gz]
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
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
	archive := flag.String("archive", "", "also pack the image into this .tar.gz (installers ship it beside the app as berth-vm-image.tar.gz; the app unpacks it on first use)")
	flag.Parse()
	if err := build(*root, *cache, *out); err != nil {
		log.Fatal("mkimage: ", err)
	}
	if *archive != "" {
		if err := pack(*out, *archive); err != nil {
			log.Fatal("mkimage: ", err)
		}
	}
}

// pack writes the image's files into a reproducible .tar.gz: fixed
// order, no times or owners, no gzip timestamp.
func pack(dir, archive string) error {
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	for _, name := range []string{"SHA256SUMS", "initramfs.cpio", "vmlinux"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Close()
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			f.Close()
			return err
		}
		if _, err := tw.Write(data); err != nil {
			f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
		dst := "lib/modules/" + path.Base(m.path)
		files[dst] = vm.CpioFile{Data: stripSignature(kfiles[m.path]), Mode: 0o644}
		list = append(list, fmt.Sprintf("%d /%s", m.level, dst))
	}
	files["etc/modules.order"] = vm.CpioFile{Data: []byte(strings.Join(list, "\n") + "\n"), Mode: 0o644}
	// e2fsprogs, for a journalled ext4 data disk (busybox makes only
	// ext2, which an unclean stop can leave unmountable) and its repair.
	var fsDebs []string
	for _, p := range pkgs {
		if p.name != kernelPkg && p.name != "busybox-static" {
			fsDebs = append(fsDebs, debs[p.name])
		}
	}
	sysroot, err := loadRoot(fsDebs)
	if err != nil {
		return err
	}
	for _, prog := range []string{"/sbin/mke2fs", "/sbin/e2fsck"} {
		if err := sysroot.addProgram(files, prog); err != nil {
			return err
		}
	}
	conf, err := sysroot.read("/etc/mke2fs.conf")
	if err != nil {
		return err
	}
	files["etc/mke2fs.conf"] = vm.CpioFile{Data: conf, Mode: 0o644}
	for _, l := range []string{"sh", "ls", "cat", "ip", "mount"} {
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

// debFiles reads the regular files of a .deb that keep selects.
func debFiles(deb string, keep func(string) bool) (map[string][]byte, error) {
	files, _, err := debTree(deb, keep)
	return files, err
}

// debTree reads the regular files and symbolic links of a .deb that keep
// selects.
func debTree(deb string, keep func(string) bool) (map[string][]byte, map[string]string, error) {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("dpkg-deb: %w", err)
	}
	out, links := map[string][]byte{}, map[string]string{}
	tr := tar.NewReader(stdout)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", deb, err)
		}
		if !keep(hdr.Name) {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, nil, err
			}
			out[hdr.Name] = data
		case tar.TypeSymlink:
			links[hdr.Name] = hdr.Linkname
		}
	}
	return out, links, cmd.Wait()
}

// debRoot is the union of several packages' files, as if installed.
type debRoot struct {
	files map[string][]byte
	links map[string]string
}

func loadRoot(debs []string) (*debRoot, error) {
	r := &debRoot{files: map[string][]byte{}, links: map[string]string{}}
	for _, d := range debs {
		f, l, err := debTree(d, func(string) bool { return true })
		if err != nil {
			return nil, err
		}
		for k, v := range f {
			r.files[k] = v
		}
		for k, v := range l {
			r.links[k] = v
		}
	}
	return r, nil
}

// read gives the file at p ("/lib/..."), following symbolic links.
func (r *debRoot) read(p string) ([]byte, error) {
	for i := 0; i < 16; i++ {
		key := "." + path.Clean("/"+p)
		if data, ok := r.files[key]; ok {
			return data, nil
		}
		t, ok := r.links[key]
		if !ok {
			return nil, fmt.Errorf("%s is in none of the packages", p)
		}
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(path.Clean("/"+p)), t)
		}
		p = t
	}
	return nil, fmt.Errorf("%s: too many links", p)
}

// addProgram puts a dynamically linked program into the image with its
// program interpreter and every shared library it needs, found in the
// packages the way the dynamic linker would (by soname, in the
// multiarch library directories).
func (r *debRoot) addProgram(files map[string]vm.CpioFile, prog string) error {
	data, err := r.read(prog)
	if err != nil {
		return err
	}
	files[strings.TrimPrefix(prog, "/")] = vm.CpioFile{Data: data, Mode: 0o755}
	queue := [][]byte{data}
	for len(queue) > 0 {
		f, err := elf.NewFile(bytes.NewReader(queue[0]))
		queue = queue[1:]
		if err != nil {
			return fmt.Errorf("%s: %w", prog, err)
		}
		var deps []string
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				b, _ := io.ReadAll(p.Open())
				deps = append(deps, strings.TrimRight(string(b), "\x00"))
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("%s: %w", prog, err)
		}
		for _, l := range libs {
			deps = append(deps, "/lib/x86_64-linux-gnu/"+l)
		}
		for _, d := range deps {
			dst := strings.TrimPrefix(d, "/")
			if _, done := files[dst]; done {
				continue
			}
			lib, err := r.read(d)
			if err != nil {
				if lib, err = r.read("/usr" + d); err != nil {
					return fmt.Errorf("%s needs %s: %w", prog, d, err)
				}
			}
			files[dst] = vm.CpioFile{Data: lib, Mode: 0o755}
			queue = append(queue, lib)
		}
	}
	return nil
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

type module struct {
	path  string
	level int // above the level of every module it depends on
}

// moduleOrder lists the wanted modules and what they depend on (the
// .modinfo "depends=" field), dependencies first.
func moduleOrder(files map[string][]byte, wanted []string) ([]module, error) {
	byName := map[string]string{}
	for p := range files {
		if strings.HasSuffix(p, ".ko") {
			byName[strings.ReplaceAll(strings.TrimSuffix(path.Base(p), ".ko"), "-", "_")] = p
		}
	}
	var order []module
	level := map[string]int{} // -1: built into the kernel
	var visit func(name string) error
	visit = func(name string) error {
		name = strings.ReplaceAll(name, "-", "_")
		if _, seen := level[name]; seen {
			return nil
		}
		level[name] = -1
		p, ok := byName[name]
		if !ok {
			return nil // built into the kernel
		}
		deps, err := modDepends(files[p])
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		sort.Strings(deps)
		l := 0
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
			l = max(l, level[strings.ReplaceAll(d, "-", "_")]+1)
		}
		level[name] = l
		order = append(order, module{p, l})
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

// stripSignature removes a module's appended signature: the kernel
// checks it with SHA-256 and RSA on every load, which costs tens of
// milliseconds per module under emulation, and the VM does not enforce
// signatures (the image's checksums vouch for the modules instead).
func stripSignature(ko []byte) []byte {
	const magic = "~Module signature appended~\n"
	if !bytes.HasSuffix(ko, []byte(magic)) {
		return ko
	}
	n := len(ko) - len(magic)
	if n < 12 {
		return ko
	}
	// struct module_signature: 12 bytes, ending in the signature's length (big-endian).
	sigLen := int(ko[n-4])<<24 | int(ko[n-3])<<16 | int(ko[n-2])<<8 | int(ko[n-1])
	end := n - 12 - sigLen
	if end <= 0 {
		return ko
	}
	return ko[:end]
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
// (-trimpath, no build ID); berthd needs cgo (libcontainer's nsenter, and
// libseccomp for Docker's seccomp profile) and is linked statically
// against glibc and libseccomp.
func goBuild(root, out, pkg string, cgo bool) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-o", out}
	env := append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	if cgo {
		args = append(args, "-tags", "netgo,osusergo,seccomp", "-ldflags", "-s -w -buildid= -linkmode external -extldflags -static")
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
