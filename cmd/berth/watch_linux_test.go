package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine/enginetest"
)

// berth watch in a terminal: builds, runs, rebuilds on a save (or, with
// --sync, copies the save into the container and brings the image up to
// date after), prints each rebuild's steps and result, and stops on Ctrl-C.
func TestWatchCommand(t *testing.T) {
	e := apptest.Start(t) // BERTH_HOST now names its socket
	if _, err := e.Core.Engine.Registry.Pull(t.Context(), e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Core.Engine.Images.Tag(t.Context(), e.BusyboxRef, "busybox:1.36")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, tt := range []struct {
		name  string
		flags []string
		want  []string
	}{
		{name: "rebuild", want: []string{"2/3 ", "COPY index.html /www/", "built ", "(index.html), running as"}},
		{name: "sync", flags: []string{"--sync", "--no-restart"}, want: []string{"synced (index.html) to /www/index.html in ", "brought up to date in ", "(the container keeps running)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "index.html"), []byte("one\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nCOPY index.html /www/\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"), 0o644)
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			url := fmt.Sprintf("http://127.0.0.1:%d/", port)
			out := &enginetest.Buffer{}
			done := make(chan int)
			args := append([]string{"-t", "cli:dev", "--run", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "--debounce", "50ms"}, tt.flags...)
			go func() { done <- watchCommand(append(args, dir), out, out) }()
			get := func() string {
				resp, err := http.Get(url)
				if err != nil {
					return ""
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			apptest.WaitFor(t, "the first build to serve", func() bool { return get() == "one\n" })
			os.WriteFile(filepath.Join(dir, "index.html"), []byte("two\n"), 0o644)
			apptest.WaitFor(t, "the change to be served", func() bool { return get() == "two\n" })
			last := tt.want[len(tt.want)-1]
			apptest.WaitFor(t, "the report", func() bool { return strings.Contains(out.String(), last) })
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("exit %d", code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Ctrl-C did not stop berth watch")
			}
			text := out.String()
			for _, want := range append([]string{"watching 2 files in " + dir}, tt.want...) {
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			e.Core.Engine.Containers.Remove(t.Context(), "cli-dev", true, false)
		})
	}
}
