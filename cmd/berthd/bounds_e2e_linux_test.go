package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine/enginetest"
)

// rawRequest sends one request to a test berthd's socket; the caller
// reads and closes the body.
func (d *testDaemon) rawRequest(method, path string, body io.Reader) (*http.Response, error) {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", d.sock)
	}}}
	req, err := http.NewRequest(method, "http://berthd"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}

// api is a raw request whose answer is read whole.
func (d *testDaemon) api(t *testing.T, method, path string, body io.Reader) (int, string) {
	t.Helper()
	resp, err := d.rawRequest(method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func openFDs(t *testing.T, pid int) int {
	entries, err := os.ReadDir(filepath.Join("/proc", itoa(int64(pid)), "fd"))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Inputs beyond Berth's bounds get a clear 413 or 400, and berthd's memory
// stays as it was; failed runs leak no file descriptors; a tail that is
// not a number means every line.
func TestInputsAreBounded(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	d := startDaemon(t)
	c := dockerCLI(t, d.host)
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("tag", reg.Host+"/library/busybox", "busybox")

	// A 200 MB environment: refused before it is read whole.
	huge, _ := json.Marshal(map[string]any{"Image": "busybox", "Env": []string{"A=" + strings.Repeat("x", 200<<20)}})
	if code, body := d.api(t, "POST", "/containers/create", bytes.NewReader(huge)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 200 MB create request: %d %s", code, body)
	}
	if rss := rssOf(t, d.cmd.Process.Pid); rss > 200<<20 {
		t.Errorf("berthd's RSS is %d MB after the refused request", rss>>20)
	}

	// Failed runs release their connections.
	c.ok("run", "--rm", "busybox", "true")
	before := openFDs(t, d.cmd.Process.Pid)
	for i := 0; i < 10; i++ {
		c.run("run", "--rm", "busybox", "nope")
	}
	if after := openFDs(t, d.cmd.Process.Pid); after > before+2 {
		t.Errorf("10 failed runs: berthd's open files went from %d to %d:\n%s", before, after, describeFDs(d.cmd.Process.Pid))
	}

	c.ok("run", "--name", "talker", "busybox", "sh", "-c", "echo one; echo two")
	if code, body := d.api(t, "GET", "/containers/talker/logs?stdout=1&tail=abc", nil); code != 200 || !strings.Contains(body, "one") || !strings.Contains(body, "two") {
		t.Errorf("logs?tail=abc: %d %q, want every line", code, body)
	}
	if code, body := d.api(t, "POST", "/containers/talker/kill?signal=999", nil); code != http.StatusBadRequest && code != http.StatusConflict {
		t.Errorf("kill?signal=999: %d %s", code, body)
	}
}

// describeFDs lists a process's open files and their flags.
func describeFDs(pid int) string {
	dir := filepath.Join("/proc", itoa(int64(pid)))
	entries, _ := os.ReadDir(filepath.Join(dir, "fd"))
	var b strings.Builder
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(dir, "fd", e.Name()))
		info, _ := os.ReadFile(filepath.Join(dir, "fdinfo", e.Name()))
		flags := ""
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				flags = strings.TrimSpace(v)
			}
		}
		b.WriteString(e.Name() + " " + target + " flags=" + flags + "\n")
	}
	return b.String()
}

// rssOf is a process's resident memory in bytes.
func rssOf(t *testing.T, pid int) int64 {
	status, _ := os.ReadFile(filepath.Join("/proc", itoa(int64(pid)), "status"))
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
