package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

// compose is a compose tool (Debian's docker-compose v1, or compose v2)
// driving berthd in dir, the project called project.
type compose struct {
	t                       *testing.T
	bin, dir, project, host string
	env                     []string
}

func (c *compose) run(args ...string) (string, bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"-p", c.project}, args...)...)
	cmd.Dir = c.dir
	// COMPOSE_INTERACTIVE_NO_CLI: exec goes through docker-py's socket
	// (else compose hands it to the docker CLI, tested on its own).
	cmd.Env = append(os.Environ(), append([]string{"DOCKER_HOST=" + c.host, "COMPOSE_INTERACTIVE_NO_CLI=1"}, c.env...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func (c *compose) ok(args ...string) string {
	c.t.Helper()
	out, ok := c.run(args...)
	if !ok {
		c.t.Fatalf("%s %v:\n%s", filepath.Base(c.bin), args, out)
	}
	return out
}

// A compose project on Berth, with Debian's docker-compose (v1) and with
// compose v2 (packaging/dev/setup.sh test builds it): two services on the
// project's network, one reaching the other by its service name, a named
// volume both use, a bind mount and a published port; up, ps, logs, exec
// and down -v leave nothing behind.
func TestComposeProject(t *testing.T) {
	for _, tool := range []struct{ name, bin, sep, missing string }{
		{"v1", "docker-compose", "_", "Debian's docker-compose is not installed (packaging/dev/setup.sh test installs it)"},
		{"v2", os.Getenv("BERTH_TEST_COMPOSE"), "-", "no compose v2 (packaging/dev/setup.sh test builds it into /var/tmp/berth-test-tools and sets BERTH_TEST_COMPOSE)"},
	} {
		t.Run(tool.name, func(t *testing.T) {
			if tool.bin == "" {
				t.Skip(tool.missing)
			}
			if _, err := exec.LookPath(tool.bin); err != nil {
				t.Skip(tool.missing)
			}
			composeProject(t, tool.bin, tool.sep)
		})
	}
}

func composeProject(t *testing.T, bin, sep string) {
	d := startDaemon(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	reg.Push(t, enginetest.Python(t), "library/python:3-slim")
	dir := t.TempDir()
	for _, f := range []string{"docker-compose.yml", "site/index.html"} {
		data, err := os.ReadFile(filepath.Join("testdata", "compose", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	port := enginetest.FreePort(t)
	c := &compose{t: t, bin: bin, dir: dir, project: "demo", host: d.host,
		env: []string{"BB=" + reg.Host + "/library/busybox:latest", "PY=" + reg.Host + "/library/python:3-slim", "PORT=" + strconv.Itoa(port)}}
	docker := dockerCLI(t, d.host)

	c.ok("up", "-d")
	ps := c.ok("ps")
	for _, svc := range []string{"demo" + sep + "db" + sep + "1", "demo" + sep + "web" + sep + "1"} {
		if strings.Count(ps, svc) != 1 {
			t.Errorf("docker-compose ps lists %s %d times:\n%s", svc, strings.Count(ps, svc), ps)
		}
	}
	if strings.Contains(ps, sep+"2") || strings.Count(ps, "Up ") != 2 {
		t.Errorf("docker-compose ps:\n%s", ps)
	}
	// web reaches db by its service name, over the project's network.
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got, _ = c.run("exec", "-T", "web", "python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://db:7000/value').read().decode(), end='')")
		if got == "stored\n" {
			break
		}
	}
	if got != "stored\n" {
		t.Errorf("web asking db by name: %q", got)
	}
	// The named volume is shared: what db wrote, web reads.
	if out := c.ok("exec", "-T", "web", "cat", "/shared/value"); out != "stored\n" {
		t.Errorf("the shared volume from web: %q", out)
	}
	if body := httpGet(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/index.html"); body != "hello from compose\n" {
		t.Errorf("the published port served %q (the bind-mounted site)", body)
	}
	mustContain(t, "docker-compose logs db", c.ok("logs", "db"), "db ready")
	mustContain(t, "network ls", docker.ok("network", "ls"), "demo_default")

	c.ok("down", "-v")
	if out := docker.ok("ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left after down -v: %q", out)
	}
	if out := docker.ok("volume", "ls", "-q"); strings.Contains(out, "demo_shared") {
		t.Errorf("the project's volume outlived down -v: %q", out)
	}
	if out := docker.ok("network", "ls", "--format", "{{.Name}}"); strings.Contains(out, "demo") {
		t.Errorf("the project's network outlived down: %q", out)
	}
}
