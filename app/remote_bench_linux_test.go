package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// BenchmarkRemoteOverSSH measures a cached rebuild and a `run -d -p`
// against an engine reached through SSH on loopback (a real sshd, the
// remote user's rootless Berth behind `docker system dial-stdio`), the
// app's way and the docker CLI's, through the same context in one run:
//
//	berth       the app: one Core, its SSH connections kept for reuse
//	berth-cold  a new Core (so new SSH logins) for every operation
//	docker-cli  docker --context big …, a process (and SSH login) each
//
// Only the operation is timed; removing the container is not.
func BenchmarkRemoteOverSSH(b *testing.B) {
	startRemote(b)
	reg := enginetest.StartRegistry(b)
	reg.Push(b, enginetest.Busybox(b), "library/busybox:1.36")
	ref := reg.Host + "/library/busybox:1.36"
	core, err := openContext(b, "big")
	if err != nil {
		b.Fatal(app.Explain(err))
	}
	defer core.Close()
	ctx := context.Background()
	if err := core.Images.Pull(ctx, ref, app.NewTransfer(nil)); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+ref+"\nCOPY index.html /www/\nRUN echo built > /www/built\nEXPOSE 80\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello\n"), 0o644)
	docker := func(args ...string) string {
		b.Helper()
		cmd := exec.Command("docker", append([]string{"--context", "big"}, args...)...)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0", "DOCKER_CLI_HINTS=false")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	opts := engine.BuildOptions{ContextDir: dir, Dockerfile: "Dockerfile", Tags: []string{"bench/site:v1"}}
	if _, err := core.Engine.Builder.Build(ctx, opts, nil); err != nil { // the cache is warm for all
		b.Fatal(err)
	}
	withCore := func(b *testing.B, cold bool, op func(*app.Core)) {
		for b.Loop() {
			c := core
			if cold {
				var err error
				if c, err = openContext(b, "big"); err != nil {
					b.Fatal(err)
				}
			}
			op(c)
			if cold {
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
		}
	}
	build := func(c *app.Core) {
		if _, err := c.Engine.Builder.Build(ctx, opts, nil); err != nil {
			b.Fatal(err)
		}
	}
	run := func(c *app.Core) {
		id, err := c.Containers.Run(ctx, app.RunOptions{Image: "bench/site:v1", Ports: "127.0.0.1:0:80", Command: "exec httpd -f -p 80 -h /www"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Engine.Containers.Remove(ctx, id, true, false)
		b.StartTimer()
	}
	b.Run("cached-rebuild/berth", func(b *testing.B) { withCore(b, false, build) })
	b.Run("cached-rebuild/berth-cold", func(b *testing.B) { withCore(b, true, build) })
	b.Run("cached-rebuild/docker-cli", func(b *testing.B) {
		for b.Loop() {
			docker("build", "-q", "-t", "bench/site:v1", dir)
		}
	})
	b.Run("run-d-p/berth", func(b *testing.B) { withCore(b, false, run) })
	b.Run("run-d-p/berth-cold", func(b *testing.B) { withCore(b, true, run) })
	b.Run("run-d-p/docker-cli", func(b *testing.B) {
		for b.Loop() {
			id := docker("run", "-d", "-p", "127.0.0.1:0:80", "bench/site:v1", "httpd", "-f", "-p", "80", "-h", "/www")
			b.StopTimer()
			docker("rm", "-f", id)
			b.StartTimer()
		}
	})
}
