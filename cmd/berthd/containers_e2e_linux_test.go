package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

// runExit runs docker and returns its output and exit code.
func (c *cli) runExit(args ...string) (string, int) {
	c.t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = append(cmd.Environ(), "DOCKER_HOST="+c.host, "DOCKER_CONFIG="+c.config, "DOCKER_CLI_HINTS=false")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		c.t.Fatalf("docker %v: %v", args, err)
	}
	return string(out), 0
}

// getEventually GETs url until a server answers (3 s at most) and returns
// the body, or "" when none did.
func getEventually(url string) string {
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		time.Sleep(30 * time.Millisecond)
	}
	return ""
}

func TestDockerCLIRunsContainers(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	d := startDaemon(t)
	c := dockerCLI(t, d.host)
	testStart := time.Now().Add(-time.Second)
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("tag", reg.Host+"/library/busybox", "busybox")

	// Foreground run: output and exit code come back; --rm leaves nothing.
	if out, code := c.runExit("run", "--rm", "busybox", "echo", "hi"); out != "hi\n" || code != 0 {
		t.Errorf("run echo hi = %q, exit %d", out, code)
	}
	if out, code := c.runExit("run", "--rm", "-e", "GREETING=hello", "-w", "/tmp", "-u", "nobody", "busybox",
		"sh", "-c", `echo "$GREETING $(pwd) $(id -u)"; exit 3`); out != "hello /tmp 65534\n" || code != 3 {
		t.Errorf("run with env, workdir, user = %q, exit %d", out, code)
	}
	if out, code := c.runExit("run", "--rm", "busybox", "nope"); code != 127 || !strings.Contains(out, `exec: "nope": executable file not found in $PATH`) {
		t.Errorf("run of a missing command = %q, exit %d; want docker's message and 127", out, code)
	}
	if out := c.ok("ps", "-aq"); strings.TrimSpace(out) != "" {
		t.Errorf("--rm left containers: %q", out)
	}
	if out := c.ok("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo end"); out != "end\n" {
		t.Errorf("run -i with no input = %q", out)
	}

	// A server on a published port answers from the host.
	port := enginetest.FreePort(t)
	c.ok("run", "-d", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox",
		"sh", "-c", "mkdir /www && echo served > /www/index.html && echo started && exec httpd -f -v -p 80 -h /www")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if body := getEventually(url); body != "served\n" {
		t.Fatalf("GET %s = %q", url, getEventually(url))
	}
	out := c.ok("ps", "--format", "{{.Names}} {{.Ports}} {{.Status}}")
	if !strings.Contains(out, fmt.Sprintf("web 127.0.0.1:%d->80/tcp Up", port)) {
		t.Errorf("ps = %q", out)
	}
	// The same host port again: a clear error, and no container left running.
	out, code := c.runExit("run", "-d", "--name", "clash", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "true")
	if code == 0 || !strings.Contains(out, "port is already allocated") {
		t.Errorf("run on a used port = %q, exit %d", out, code)
	}
	c.ok("rm", "clash")

	if out := c.ok("exec", "web", "sh", "-c", "echo in $(hostname)"); !strings.HasPrefix(out, "in ") {
		t.Errorf("exec = %q", out)
	}
	if _, code := c.runExit("exec", "web", "sh", "-c", "exit 5"); code != 5 {
		t.Errorf("exec exit code %d, want 5", code)
	}
	if out := c.ok("logs", "web"); !strings.Contains(out, "started") {
		t.Errorf("logs = %q", out)
	}
	if out := c.ok("inspect", "-f", "{{.State.Status}} {{.Config.Image}}", "web"); out != "running busybox\n" {
		t.Errorf("inspect = %q", out)
	}
	if out := c.ok("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "web"); !strings.HasPrefix(out, "web ") {
		t.Errorf("stats = %q", out)
	}
	// Every running container: the CLI waits for the events stream to answer first.
	if out := c.ok("stats", "--no-stream", "--format", "{{.Name}}"); !strings.Contains(out, "web\n") {
		t.Errorf("stats (all) = %q", out)
	}

	// -P publishes every exposed port on a free host port.
	c.ok("run", "-d", "--name", "anyport", "-P", "--expose", "8000", "busybox", "sh", "-c", "echo any > /i.html; exec httpd -f -p 8000 -h /")
	out = c.ok("port", "anyport", "8000/tcp")
	hostAddr := strings.TrimSpace(strings.Split(out, "\n")[0])
	if !strings.HasPrefix(hostAddr, "0.0.0.0:") {
		t.Fatalf("docker port = %q", out)
	}
	anyURL := "http://127.0.0.1:" + strings.TrimPrefix(hostAddr, "0.0.0.0:") + "/i.html"
	if body := getEventually(anyURL); body != "any\n" {
		t.Errorf("GET %s (-P) did not answer any", anyURL)
	}
	c.ok("rm", "-f", "anyport")

	// logs -f follows new lines until the container stops.
	c.ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.2; done")
	out = c.ok("logs", "-f", "ticker")
	if out != "tick 1\ntick 2\ntick 3\n" {
		t.Errorf("logs -f = %q", out)
	}
	if out := c.ok("wait", "ticker"); out != "0\n" {
		t.Errorf("wait = %q", out)
	}

	// stop: a process that ignores SIGTERM is killed after the timeout.
	c.ok("run", "-d", "--name", "stubborn", "busybox", "sh", "-c", `trap "" TERM; while true; do sleep 0.1; done`)
	start := time.Now()
	c.ok("stop", "-t", "1", "stubborn")
	if took := time.Since(start); took < time.Second {
		t.Errorf("stop took %v; SIGTERM should have been ignored for the 1 s timeout", took)
	}
	if out := c.ok("inspect", "-f", "{{.State.ExitCode}}", "stubborn"); out != "137\n" {
		t.Errorf("exit code after stop = %q, want 137", out)
	}

	// The lifecycle is on the event stream.
	out = c.ok("events", "--since", strconv.FormatInt(testStart.Unix(), 10), "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "type=container", "--filter", "container=ticker", "--format", "{{.Action}}")
	if got := strings.Fields(out); strings.Join(got, " ") != "create start die" {
		t.Errorf("events for ticker = %q, want create start die", got)
	}

	// State survives berthd dying: a running container is reported exited.
	c.ok("run", "-d", "--name", "survivor", "busybox", "sleep", "300")
	d.stop()
	d.start()
	out = c.ok("ps", "-a", "--format", "{{.Names}} {{.State}}")
	for _, want := range []string{"survivor exited", "stubborn exited", "ticker exited", "web running"} {
		if want == "web running" {
			want = "web exited" // it was running too when berthd died
		}
		if !strings.Contains(out, want) {
			t.Errorf("after berthd restart, ps -a lacks %q:\n%s", want, out)
		}
	}
	c.ok("start", "survivor")
	if out := c.ok("inspect", "-f", "{{.State.Status}}", "survivor"); out != "running\n" {
		t.Errorf("restarted survivor is %q", out)
	}
	c.ok("rm", "-f", "survivor", "web", "stubborn", "ticker")
	if out := c.ok("ps", "-aq"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left: %q", out)
	}
	// An image a container uses cannot be removed without force.
	c.ok("create", "--name", "holder", "busybox", "true")
	c.ok("rmi", reg.Host+"/library/busybox") // another name: only untagged
	c.fails("image is being used", "rmi", "busybox")
	c.ok("rm", "holder")
}
