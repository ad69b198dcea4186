// Package starter makes the root file system of Berth's offline starter
// image: a static busybox, one link per applet, and the few files a shell
// and a web server need. The welcome tour builds its first image from it
// with no registry at hand, and the tests make their base image the same
// way.
package starter

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// FindBusybox is a static busybox for Linux on this machine, or an error
// that says how to get one. A dynamically linked one would not run in an
// image with no C library.
func FindBusybox() (string, error) {
	for _, p := range []string{BusyboxPath, "/usr/bin/busybox", "/usr/lib/busybox/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", fmt.Errorf("no static busybox on this computer to make the starter image from: install busybox-static (sudo apt-get install busybox-static), or pull an image from Docker Hub: %w", engine.ErrNotFound)
}

// commonApplets are linked when busybox cannot be asked for its own list
// (it is built for another machine).
var commonApplets = []string{"bin/sh", "bin/ash", "bin/cat", "bin/cp", "bin/echo", "bin/ls", "bin/mkdir", "bin/mv", "bin/rm", "bin/sleep", "bin/ps", "bin/grep", "bin/sed", "bin/hostname", "bin/touch", "usr/bin/env", "usr/bin/wget", "usr/bin/vi", "usr/bin/head", "usr/bin/tail", "usr/bin/top", "usr/sbin/httpd", "sbin/ifconfig"}

// Rootfs returns an uncompressed tar of a minimal root file system made
// from the static busybox at path: the binary, one symlink per applet
// (what `busybox --install -s` makes), /etc/passwd and /etc/group, and the
// usual empty folders. Fixed times make it reproducible: the same bytes,
// the same digest.
func Rootfs(path string) ([]byte, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	applets := commonApplets
	if out, err := exec.Command(path, "--list-full").Output(); err == nil {
		applets = strings.Fields(string(out))
	}
	return rootfs(bin, applets)
}

// RootfsOf is Rootfs for a busybox this computer cannot run (the one in
// Berth's VM image, on macOS or Windows): it links the common applets.
func RootfsOf(busybox []byte) ([]byte, error) { return rootfs(busybox, commonApplets) }

func rootfs(bin []byte, applets []string) ([]byte, error) {
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var errs []error
	dir := func(name string, mode int64) {
		errs = append(errs, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: mtime}))
	}
	file := func(name string, mode int64, data []byte) {
		errs = append(errs, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime}))
		_, err := tw.Write(data)
		errs = append(errs, err)
	}
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home", "proc", "sys", "dev", "var", "var/www", "tmp"} {
		mode := int64(0o755)
		switch d {
		case "tmp":
			mode = 0o1777
		case "root":
			mode = 0o700
		}
		dir(d, mode)
	}
	file("bin/busybox", 0o755, bin)
	file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"))
	file("etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n"))
	seen := map[string]bool{"bin/busybox": true}
	for _, applet := range applets {
		applet = strings.TrimPrefix(applet, "/")
		if seen[applet] {
			continue
		}
		seen[applet] = true
		errs = append(errs, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: applet, Linkname: "/bin/busybox", Mode: 0o777, ModTime: mtime}))
	}
	errs = append(errs, tw.Close())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("make the starter root file system: %w", err)
	}
	return buf.Bytes(), nil
}
