package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine/enginetest"
)

// build runs the classic-builder `docker build`, as DOCKER_BUILDKIT=0 does.
func (c *cli) build(args ...string) (string, int) {
	c.t.Helper()
	return c.runExit(append([]string{"build"}, args...)...)
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644)
	}
	return dst
}

func TestDockerCLIBuildsRunsAndPrunes(t *testing.T) {
	t.Setenv("DOCKER_BUILDKIT", "0")
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	d := startDaemon(t)
	c := dockerCLI(t, d.host)
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("tag", reg.Host+"/library/busybox", "busybox")

	dir := copyDir(t, filepath.Join("..", "..", "testdata", "apps", "bbhello"))
	out, code := c.build("-t", "bbhello", "-t", "bbhello:v1", dir)
	if code != 0 {
		t.Fatalf("docker build failed (%d):\n%s", code, out)
	}
	mustContain(t, "docker build", out, "Step 1/7 : FROM busybox", "Step 4/7 : RUN echo \"$GREETING\" > greeting.txt", " ---> Running in ",
		"Successfully built ", "Successfully tagged bbhello:latest", "Successfully tagged bbhello:v1")

	port := enginetest.FreePort(t)
	c.ok("run", "-d", "--name", "site", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "bbhello")
	if body := getEventually(fmt.Sprintf("http://127.0.0.1:%d/", port)); !strings.Contains(body, "Hello from Berth!") {
		t.Fatalf("the built site answered %q", body)
	}
	if body := getEventually(fmt.Sprintf("http://127.0.0.1:%d/greeting.txt", port)); body != "Hello, World!\n" {
		t.Fatalf("greeting.txt = %q", body)
	}

	hist := c.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}", "bbhello")
	mustContain(t, "docker history", hist, `CMD ["httpd" "-f" "-p" "8080" "-h" "/www"]|0B`, "EXPOSE map[8080/tcp:{}]|0B",
		"COPY index.html . # buildkit|", `RUN /bin/sh -c echo "$GREETING" > greeting.txt # buildkit|14B`, "WORKDIR /www|0B", `ENV GREETING=Hello, World!|0B`)
	if got := c.ok("inspect", "-f", "{{json .Config.Cmd}} {{.Config.WorkingDir}} {{json .Config.ExposedPorts}}", "bbhello"); got != `["httpd","-f","-p","8080","-h","/www"] /www {"8080/tcp":{}}`+"\n" {
		t.Errorf("inspect = %q", got)
	}

	// A no-op rebuild is all cache and the same image.
	id := c.ok("inspect", "-f", "{{.Id}}", "bbhello")
	out, _ = c.build("-t", "bbhello", dir)
	if n := strings.Count(out, "Using cache"); n != 6 {
		t.Errorf("no-op rebuild used the cache %d times, want 6:\n%s", n, out)
	}
	if again := c.ok("inspect", "-f", "{{.Id}}", "bbhello"); again != id {
		t.Errorf("no-op rebuild changed the image: %s → %s", id, again)
	}

	// -f with another name, build args, a target, and a failing step.
	os.WriteFile(filepath.Join(dir, "Dockerfile.prod"), []byte("FROM busybox AS base\nARG WHO=nobody\nRUN echo \"hi $WHO\" > /who.txt\nFROM base AS broken\nRUN echo failing; exit 42\n"), 0o644)
	out, code = c.build("-f", filepath.Join(dir, "Dockerfile.prod"), "--build-arg", "WHO=tutorial", "--target", "base", "-t", "prod", dir)
	if code != 0 {
		t.Fatalf("build -f --target failed:\n%s", out)
	}
	if got := c.ok("run", "--rm", "prod", "cat", "/who.txt"); got != "hi tutorial\n" {
		t.Errorf("build arg: %q", got)
	}
	out, code = c.build("-f", filepath.Join(dir, "Dockerfile.prod"), "-t", "broken", dir)
	if code == 0 || !strings.Contains(out, "failing") || !strings.Contains(out, "The command '/bin/sh -c echo failing; exit 42' returned a non-zero code: 42") {
		t.Errorf("failing build (exit %d):\n%s", code, out)
	}
	if _, ok := c.run("inspect", "broken"); ok {
		t.Error("a failed build left a tagged image")
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile.bad"), []byte("FROM busybox\nCOPY missing.txt /\n"), 0o644)
	out, code = c.build("-f", filepath.Join(dir, "Dockerfile.bad"), dir)
	if code == 0 || !strings.Contains(out, `"missing.txt" not found`) {
		t.Errorf("missing source (exit %d):\n%s", code, out)
	}

	// HEALTHCHECK, ONBUILD and SHELL reach docker inspect.
	os.WriteFile(filepath.Join(dir, "Dockerfile.meta"), []byte("FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nHEALTHCHECK --interval=5s --retries=2 CMD true\nONBUILD RUN echo child\n"), 0o644)
	if out, code := c.build("-f", filepath.Join(dir, "Dockerfile.meta"), "-t", "meta", dir); code != 0 {
		t.Fatalf("meta build:\n%s", out)
	}
	if got := c.ok("inspect", "-f", "{{json .Config.Healthcheck}} {{json .Config.OnBuild}} {{json .Config.Shell}}", "meta"); got != `{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":2} ["RUN echo child"] ["/bin/sh","-ec"]`+"\n" {
		t.Errorf("inspect meta = %q", got)
	}

	out = c.ok("builder", "prune", "-f")
	mustContain(t, "builder prune", out, "Total reclaimed space")
	out, _ = c.build("-t", "bbhello", dir)
	if strings.Contains(out, "Using cache") {
		t.Errorf("the cache survived a prune:\n%s", out)
	}
}
