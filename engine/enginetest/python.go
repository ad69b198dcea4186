package enginetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// HostPython is the Debian python3 the Python test base is made from.
const HostPython = "/usr/bin/python3"

// PythonRootfs returns an uncompressed tar holding the host's Debian
// python3: the interpreter, the shared libraries it and its extension
// modules load, and the standard library (less its tests and GUI kits).
// With the busybox layer under it, it stands in for python:3.11-slim in
// tests, which cannot reach Docker Hub.
func PythonRootfs() ([]byte, error) {
	bin, err := filepath.EvalSymlinks(HostPython)
	if err != nil {
		return nil, fmt.Errorf("python3 is needed for the Python test base image (apt-get install python3): %w", err)
	}
	out, err := exec.Command(bin, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])").Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	stdlib := strings.TrimSpace(string(out))
	files := map[string]bool{bin: true}
	skip := map[string]bool{"test": true, "idlelib": true, "tkinter": true, "turtledemo": true, "ensurepip": true, "lib2to3": true, "__pycache__": true, "config-" + filepath.Base(stdlib): true, "site-packages": true, "dist-packages": true}
	var dynload []string
	err = filepath.WalkDir(stdlib, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skip[d.Name()] || d.IsDir() && strings.HasPrefix(d.Name(), "config-") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files[p] = true
			if strings.HasSuffix(p, ".so") {
				dynload = append(dynload, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	libs, err := sharedLibs(append([]string{bin}, dynload...))
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		files[l] = true
	}
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdirs func(d string) error
	mkdirs = func(d string) error {
		if d == "/" || d == "." || dirs[d] {
			return nil
		}
		if err := mkdirs(filepath.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: mtime})
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, name := range names {
		real, err := filepath.EvalSymlinks(name)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(real)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, err
		}
		if err := mkdirs(filepath.Dir(name)); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(name, "/"), Mode: int64(fi.Mode().Perm()), Size: int64(len(data)), ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	for _, link := range []string{"usr/bin/python3", "usr/local/bin/python"} {
		if err := mkdirs("/" + filepath.Dir(link)); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: link, Linkname: bin, Mode: 0o777, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var lddLine = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x`)

// sharedLibs lists the libraries (and the dynamic loader) that the
// binaries load, as ldd reports them.
func sharedLibs(bins []string) ([]string, error) {
	seen := map[string]bool{}
	for _, b := range bins {
		out, err := exec.Command("ldd", b).Output()
		if err != nil {
			continue // "not a dynamic executable"
		}
		for _, m := range lddLine.FindAllStringSubmatch(string(out), -1) {
			seen[m[1]] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("ldd found no libraries for %s", bins[0])
	}
	var out []string
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out, nil
}

var (
	pythonOnce sync.Once
	pythonImg  v1.Image
	pythonErr  error
)

// PythonImage is the busybox image with the host's python3 on top, with
// python:3.11-slim's environment and CMD. It is made once per process.
func PythonImage() (v1.Image, error) {
	pythonOnce.Do(func() {
		base, err := BusyboxImage()
		if err != nil {
			pythonErr = err
			return
		}
		rootfs, err := PythonRootfs()
		if err != nil {
			pythonErr = err
			return
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(rootfs)), nil
		}, tarball.WithMediaType(types.DockerLayer))
		if err != nil {
			pythonErr = err
			return
		}
		created := v1.Time{Time: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
		img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{Created: created, CreatedBy: "COPY host python3 / # berth test base"}})
		if err != nil {
			pythonErr = err
			return
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			pythonErr = err
			return
		}
		cfg = cfg.DeepCopy()
		cfg.Created = created
		cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
		cfg.Config.Cmd = []string{"python3"}
		pythonImg, pythonErr = mutate.ConfigFile(img, cfg)
	})
	return pythonImg, pythonErr
}

// Python is PythonImage for tests: it fails the test when the host has no
// python3 to make it from.
func Python(t testing.TB) v1.Image {
	t.Helper()
	img, err := PythonImage()
	if err != nil {
		t.Fatalf("python test image: %v", err)
	}
	return img
}
