package starter

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestRootfsHasAShellAndAWebServer(t *testing.T) {
	bb, err := FindBusybox()
	if err != nil {
		t.Skipf("no static busybox here (packaging/dev/setup.sh test installs busybox-static): %v", err)
	}
	data, err := Rootfs(bb)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found[h.Name] = h.Linkname
	}
	for name, link := range map[string]string{"bin/busybox": "", "bin/sh": "/bin/busybox", "usr/sbin/httpd": "/bin/busybox", "etc/passwd": "", "tmp/": ""} {
		if got, ok := found[name]; !ok || got != link {
			t.Errorf("%s: %q (present %v), want a link to %q", name, got, ok, link)
		}
	}
	again, _ := Rootfs(bb)
	if !bytes.Equal(data, again) {
		t.Error("two root file systems from one busybox differ: the starter image would not be reproducible")
	}
}
