package main

import (
	"archive/tar"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine/enginetest"
)

// docker cp both ways, into running and stopped containers, into volumes,
// and never outside the container: not through its symlinks, not through
// an archive's names or links.
func TestDockerCp(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	d := startDaemon(t)
	c := dockerCLI(t, d.host)
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("tag", reg.Host+"/library/busybox", "busybox")
	c.ok("run", "-d", "--name", "box", "-v", "shared:/data", "busybox", "sleep", "300")

	host := t.TempDir()
	src := filepath.Join(host, "site")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "index.html"), []byte("<h1>hi</h1>\n"), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "run.sh"), []byte("echo ran\n"), 0o755)
	os.Symlink("index.html", filepath.Join(src, "home.html"))

	// In: a folder with a file, a script and a symlink.
	c.ok("cp", src, "box:/srv")
	if out := c.ok("exec", "box", "cat", "/srv/home.html"); out != "<h1>hi</h1>\n" {
		t.Errorf("copied symlink reads %q", out)
	}
	if out := c.ok("exec", "box", "sh", "/srv/sub/run.sh"); out != "ran\n" {
		t.Errorf("copied script: %q", out)
	}
	if out := c.ok("exec", "box", "stat", "-c", "%a %u", "/srv/sub/run.sh"); out != "755 0\n" {
		t.Errorf("mode and owner: %q, want 755 and root's", out)
	}
	// Into a volume: another container sees it.
	c.ok("cp", filepath.Join(src, "index.html"), "box:/data/")
	if out := c.ok("run", "--rm", "-v", "shared:/v", "busybox", "cat", "/v/index.html"); out != "<h1>hi</h1>\n" {
		t.Errorf("file copied into the volume reads %q in another container", out)
	}

	// Out: a file and a folder.
	out := t.TempDir()
	c.ok("exec", "box", "sh", "-c", "mkdir -p /made/deep && echo made > /made/deep/f && ln -s /made/deep/f /made/abs")
	c.ok("cp", "box:/made", out)
	if data, _ := os.ReadFile(filepath.Join(out, "made", "deep", "f")); string(data) != "made\n" {
		t.Errorf("copied out: %q", data)
	}
	if target, _ := os.Readlink(filepath.Join(out, "made", "abs")); target != "/made/deep/f" {
		t.Errorf("a symlink is copied as a symlink: %q", target)
	}
	c.fails("Could not find the file", "cp", "box:/nope", out)

	// The container's symlinks resolve in the container: /esc -> / is its
	// root, and ../.. cannot climb out of it.
	marker := "berth-cp-escape-" + filepath.Base(host)
	c.ok("exec", "box", "sh", "-c", "ln -s / /esc && ln -s ../../../../../../../.. /up")
	os.WriteFile(filepath.Join(host, marker), []byte("in\n"), 0o644)
	c.ok("cp", filepath.Join(host, marker), "box:/esc/")
	c.ok("cp", filepath.Join(host, marker), "box:/up/tmp/")
	if _, err := os.Stat("/" + marker); err == nil {
		os.Remove("/" + marker)
		t.Fatal("docker cp into a symlink to / wrote the host's root")
	}
	if _, err := os.Stat("/tmp/" + marker); err == nil {
		os.Remove("/tmp/" + marker)
		t.Fatal("docker cp through ../ wrote the host's /tmp")
	}
	c.ok("exec", "box", "test", "-f", "/"+marker)
	c.ok("exec", "box", "test", "-f", "/tmp/"+marker)
	os.WriteFile("/tmp/"+marker+"-host", []byte("host secret\n"), 0o600)
	defer os.Remove("/tmp/" + marker + "-host")
	c.fails("Could not find the file", "cp", "box:/up/tmp/"+marker+"-host", out)

	// A crafted archive: names that climb, a symlink to / then a file
	// through it, a hard link to a host file. Refused, nothing written.
	for name, entries := range map[string][]tar.Header{
		"dot-dot":      {{Name: "../../../../tmp/" + marker + "-1", Typeflag: tar.TypeReg, Size: 1}},
		"through link": {{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "/tmp"}, {Name: "evil/" + marker + "-2", Typeflag: tar.TypeReg, Size: 1}},
		"hard link":    {{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../../../../../../tmp/" + marker + "-host"}},
	} {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range entries {
			tw.WriteHeader(&h)
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
		tw.Close()
		code, body := d.api(t, "PUT", "/containers/box/archive?path=/tmp", &b)
		t.Logf("%s: %d %s", name, code, strings.TrimSpace(body))
		if code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	for _, leaked := range []string{"/tmp/" + marker + "-1", "/tmp/" + marker + "-2"} {
		if _, err := os.Stat(leaked); err == nil {
			os.Remove(leaked)
			t.Errorf("a crafted archive wrote %s on the host", leaked)
		}
	}

	// A stopped container: both ways, and it starts with what was copied.
	c.ok("stop", "-t", "0", "box")
	c.ok("cp", filepath.Join(src, "index.html"), "box:/srv/again.html")
	c.ok("cp", "box:/srv/sub/run.sh", filepath.Join(out, "run.sh"))
	if data, _ := os.ReadFile(filepath.Join(out, "run.sh")); string(data) != "echo ran\n" {
		t.Errorf("copied out of a stopped container: %q", data)
	}
	c.ok("start", "box")
	if out := c.ok("exec", "box", "cat", "/srv/again.html"); out != "<h1>hi</h1>\n" {
		t.Errorf("copied into a stopped container: %q", out)
	}
	var rootfs []string // only the running box's: a copy's mount goes with it
	for _, m := range d.leftovers(t, nil).mounts {
		if strings.HasSuffix(m, "/rootfs") {
			rootfs = append(rootfs, m)
		}
	}
	if len(rootfs) != 1 {
		t.Errorf("file systems mounted after the copies: %v", rootfs)
	}

	// Read-only: refused with the reason.
	c.ok("run", "-d", "--name", "ro", "--read-only", "busybox", "sleep", "300")
	c.fails("read-only", "cp", filepath.Join(src, "index.html"), "ro:/tmp/")
	if strings.Contains(c.ok("exec", "ro", "ls", "/tmp"), "index.html") {
		t.Error("a read-only container got the file")
	}
}
