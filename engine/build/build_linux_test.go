package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
	"golang.org/x/sys/unix"

	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// The test binary is also the container init for RUN steps.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init()
	}
}

var bridgeSeq atomic.Int32

type env struct {
	store   *store.Store
	rt      *runtime.Runtime
	builder *Builder
	data    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("builds need root: RUN steps are containers, layers are overlayfs mounts")
	}
	data, run := t.TempDir(), t.TempDir()
	e := &env{data: data}
	st, err := store.Open(filepath.Join(data, "images"), store.WithRoots(func() []string {
		if e.builder == nil {
			return nil
		}
		return e.builder.CacheRoots()
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if _, err := st.Put(ctx, enginetest.Busybox(t), store.PutOptions{Names: []string{"busybox"}}); err != nil {
		t.Fatal(err)
	}
	n := bridgeSeq.Add(1)
	bridge, bip := fmt.Sprintf("brb%d-%d", os.Getpid()%100000, n), fmt.Sprintf("10.%d.%d.1/24", 150+os.Getpid()%60, n%250)
	rt, err := runtime.New(data, st, runtime.WithRunDir(run), runtime.WithBridge(bridge, bip, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		list, _ := rt.List(ctx, true)
		for _, c := range list {
			rt.Remove(ctx, c.ID, true, true)
		}
		rt.Close()
		rt.RemoveBridge()
	})
	b, err := New(filepath.Join(data, "build"), st, nil, rt)
	if err != nil {
		t.Fatal(err)
	}
	e.store, e.rt, e.builder = st, rt, b
	return e
}

func (e *env) addPython(t *testing.T) {
	t.Helper()
	if _, err := e.store.Put(context.Background(), enginetest.Python(t), store.PutOptions{Names: []string{"python:3.11-slim"}}); err != nil {
		t.Fatal(err)
	}
}

// recorder keeps a build's events.
type recorder struct {
	mu     sync.Mutex
	events []engine.BuildEvent
}

func (r *recorder) add(ev engine.BuildEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// kinds lists, per step, how it ended: "cached", "done" or "failed".
func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		switch ev.Kind {
		case engine.BuildStepCached, engine.BuildStepDone, engine.BuildStepFailed:
			out = append(out, fmt.Sprintf("%d:%s", ev.Step, ev.Kind))
		}
	}
	return out
}

func (r *recorder) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, ev := range r.events {
		if ev.Kind == engine.BuildStepOutput || ev.Kind == engine.BuildWarning {
			b.WriteString(ev.Output)
		}
	}
	return b.String()
}

// writeContext makes a build context from files (name → content; a name
// ending in "/" is a directory).
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (e *env) build(t *testing.T, opts engine.BuildOptions) (engine.BuildResult, *recorder, error) {
	t.Helper()
	rec := &recorder{}
	res, err := e.builder.Build(context.Background(), opts, rec.add)
	return res, rec, err
}

func (e *env) mustBuild(t *testing.T, opts engine.BuildOptions) (engine.BuildResult, *recorder) {
	t.Helper()
	res, rec, err := e.build(t, opts)
	if err != nil {
		t.Fatalf("build: %v\noutput:\n%s", err, rec.output())
	}
	return res, rec
}

// buildOrFail builds; with wantErr set it checks instead that the build
// failed saying so, and returns false.
func (e *env) buildOrFail(t *testing.T, opts engine.BuildOptions, wantErr string) (engine.BuildResult, bool) {
	t.Helper()
	res, rec, err := e.build(t, opts)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one saying %q", err, wantErr)
		}
		return res, false
	}
	if err != nil {
		t.Fatalf("build: %v\n%s", err, rec.output())
	}
	return res, true
}

// readFile reads path from an image's layers, top layer first, as the
// container would see it.
func (e *env) readFile(t *testing.T, image, path string) (string, bool) {
	t.Helper()
	_, layers, err := e.store.ConfigFile(image)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(layers) - 1; i >= 0; i-- {
		p := filepath.Join(e.store.LayerPath(layers[i].DiffID), path)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			return "", false // whiteout
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, _ := os.Readlink(p)
			return "-> " + target, true
		}
		data, _ := os.ReadFile(p)
		return string(data), true
	}
	return "", false
}

func (e *env) stat(t *testing.T, image, path string) unix.Stat_t {
	t.Helper()
	_, layers, err := e.store.ConfigFile(image)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(layers) - 1; i >= 0; i-- {
		var st unix.Stat_t
		if unix.Lstat(filepath.Join(e.store.LayerPath(layers[i].DiffID), path), &st) == nil {
			return st
		}
	}
	t.Fatalf("%s not in %s", path, image)
	return unix.Stat_t{}
}

// serve runs image with containerPort published and returns its address.
func (e *env) serve(t *testing.T, image string, containerPort int) string {
	t.Helper()
	ctx := context.Background()
	id, err := e.rt.Create(ctx, engine.ContainerSpec{Image: image, Ports: []engine.PortBinding{{HostIP: "127.0.0.1", ContainerPort: containerPort, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	c, err := e.rt.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.rt.Remove(ctx, id, true, true) })
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(c.Ports[0].HostPort))
}

// get fetches url, retrying while the server inside starts.
func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// copyApp copies a sample app from testdata into a fresh context.
func copyApp(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "apps", name)
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
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func equal(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func TestBusyboxAppBuildsRunsAndCaches(t *testing.T) {
	e := newEnv(t)
	dir := copyApp(t, "bbhello")
	opts := engine.BuildOptions{ContextDir: dir, Tags: []string{"bbhello"}}
	first, rec := e.mustBuild(t, opts)
	if got, want := rec.kinds(), []string{"1:done", "2:done", "3:done", "4:done", "5:done", "6:done", "7:done"}; !equal(got, want) {
		t.Fatalf("cold build steps = %v, want %v", got, want)
	}
	addr := e.serve(t, "bbhello", 8080)
	if body := get(t, "http://"+addr+"/index.html"); !strings.Contains(body, "Hello from Berth!") {
		t.Fatalf("index.html = %q", body)
	}
	if body := get(t, "http://"+addr+"/greeting.txt"); body != "Hello, World!\n" {
		t.Fatalf("greeting.txt = %q", body)
	}

	// A rebuild that changes nothing: every step from the cache, same image.
	again, rec := e.mustBuild(t, opts)
	if got, want := rec.kinds(), []string{"1:done", "2:cached", "3:cached", "4:cached", "5:cached", "6:cached", "7:cached"}; !equal(got, want) {
		t.Fatalf("no-op rebuild steps = %v, want %v", got, want)
	}
	if again.ImageID != first.ImageID {
		t.Fatalf("no-op rebuild gave %s, first build %s", again.ImageID, first.ImageID)
	}

	// Touching a file without changing it keeps the cache (contents, not times).
	now := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "index.html"), now, now)
	if _, rec := e.mustBuild(t, opts); rec.kinds()[4] != "5:cached" {
		t.Fatalf("touch invalidated the COPY: %v", rec.kinds())
	}

	// Editing the copied file reruns its COPY and what follows, nothing before.
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>edited</h1>\n"), 0o644)
	edited, rec := e.mustBuild(t, opts)
	if got, want := rec.kinds(), []string{"1:done", "2:cached", "3:cached", "4:cached", "5:done", "6:done", "7:done"}; !equal(got, want) {
		t.Fatalf("after an edit steps = %v, want %v", got, want)
	}
	if edited.ImageID == first.ImageID {
		t.Fatal("an edited file gave the same image")
	}
	addr = e.serve(t, "bbhello", 8080)
	if body := get(t, "http://"+addr+"/index.html"); body != "<h1>edited</h1>\n" {
		t.Fatalf("after the edit index.html = %q", body)
	}
}

func TestPythonAppBuildsAndAnswers(t *testing.T) {
	e := newEnv(t)
	e.addPython(t)
	dir := copyApp(t, "pyhello")
	os.Mkdir(filepath.Join(dir, "__pycache__"), 0o755)
	os.WriteFile(filepath.Join(dir, "__pycache__", "app.cpython-311.pyc"), []byte("stale"), 0o644)
	opts := engine.BuildOptions{ContextDir: dir, Tags: []string{"pyhello:1.0"}}
	_, rec := e.mustBuild(t, opts)
	if !strings.Contains(rec.output(), "standard library ready") {
		t.Fatalf("RUN output missing: %q", rec.output())
	}
	if _, ok := e.readFile(t, "pyhello:1.0", "/app/__pycache__/app.cpython-311.pyc"); ok {
		t.Fatal(".dockerignore'd __pycache__ was copied")
	}
	addr := e.serve(t, "pyhello:1.0", 8000)
	if body := get(t, "http://"+addr+"/"); body != "Hello from Berth!\n" {
		t.Fatalf("app answered %q", body)
	}

	app := filepath.Join(dir, "app.py")
	src, _ := os.ReadFile(app)
	os.WriteFile(app, []byte(strings.Replace(string(src), "Hello from Berth!", "Hello again!", 1)), 0o644)
	_, rec = e.mustBuild(t, opts)
	if got, want := rec.kinds(), []string{"1:done", "2:cached", "3:cached", "4:cached", "5:done", "6:done", "7:done"}; !equal(got, want) {
		t.Fatalf("after editing app.py steps = %v, want %v", got, want)
	}
	addr = e.serve(t, "pyhello:1.0", 8000)
	if body := get(t, "http://"+addr+"/"); body != "Hello again!\n" {
		t.Fatalf("rebuilt app answered %q", body)
	}
}

func TestMetadataInstructionsMatchDocker(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile.prod": `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS base
ARG VERSION=1.0
ARG FROM_CLI
ARG BASE
LABEL org.opencontainers.image.version=$VERSION maintainer="Berth Team"
MAINTAINER someone@example.com
ENV APP_HOME=/srv/app \
    MODE=${FROM_CLI:-none}
WORKDIR $APP_HOME
WORKDIR sub
USER nobody
WORKDIR /var/lib/app
EXPOSE 8080 53/udp
VOLUME ["/data", "/logs"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD wget -q -O- http://localhost:8080/ || exit 1
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo $MODE from $BASE
`})
	cli := "cli-value"
	res, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: dir, Dockerfile: "Dockerfile.prod", Tags: []string{"meta:1", "meta:latest"}, BuildArgs: map[string]*string{"FROM_CLI": &cli}, Labels: map[string]string{"com.example.ci": "yes"}})
	cfg, layers, err := e.store.ConfigFile(res.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if c.WorkingDir != "/var/lib/app" || c.User != "nobody" || c.StopSignal != "SIGINT" {
		t.Fatalf("WorkingDir %q User %q StopSignal %q", c.WorkingDir, c.User, c.StopSignal)
	}
	if !hasKey(c.Env, "PATH") || !contains(c.Env, "APP_HOME=/srv/app") || !contains(c.Env, "MODE=cli-value") || hasKey(c.Env, "VERSION") {
		t.Fatalf("Env %v: want PATH, APP_HOME, MODE from the build arg, and no ARG", c.Env)
	}
	if c.Labels["org.opencontainers.image.version"] != "1.0" || c.Labels["maintainer"] != "Berth Team" || c.Labels["com.example.ci"] != "yes" {
		t.Fatalf("Labels %v", c.Labels)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 2 {
		t.Fatalf("ExposedPorts %v", c.ExposedPorts)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok {
		t.Fatalf("ExposedPorts %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/logs"]; !ok || len(c.Volumes) != 2 {
		t.Fatalf("Volumes %v", c.Volumes)
	}
	if h := c.Healthcheck; h == nil || h.Interval != 5*time.Second || h.Timeout != 2*time.Second || h.Retries != 4 || h.Test[0] != "CMD-SHELL" {
		t.Fatalf("Healthcheck %+v", h)
	}
	if !equal(c.Entrypoint, []string{"/bin/sh", "-c"}) || !equal(c.Cmd, []string{"/bin/sh", "-ec", "echo $MODE from $BASE"}) {
		t.Fatalf("Entrypoint %q Cmd %q", c.Entrypoint, c.Cmd)
	}
	if !equal(c.Shell, []string{"/bin/sh", "-ec"}) || !equal(c.OnBuild, []string{"RUN echo triggered > /tmp/onbuild.txt"}) || cfg.Author != "someone@example.com" {
		t.Fatalf("Shell %q OnBuild %q Author %q", c.Shell, c.OnBuild, cfg.Author)
	}
	// Only the WORKDIR that made directories added layers; the rest is metadata.
	if len(layers) != 4 {
		t.Fatalf("%d layers, want busybox + 3 WORKDIR", len(layers))
	}
	var created []string
	for _, h := range cfg.History[2:] { // after busybox's own two entries
		created = append(created, fmt.Sprintf("%s|%v", h.CreatedBy, h.EmptyLayer))
	}
	want := []string{
		"ARG VERSION=1.0|true",
		"ARG FROM_CLI=cli-value|true",
		"ARG BASE=busybox|true",
		"LABEL org.opencontainers.image.version=1.0 maintainer=Berth Team|true",
		"MAINTAINER someone@example.com|true",
		"ENV APP_HOME=/srv/app MODE=cli-value|true",
		"WORKDIR /srv/app|false",
		"WORKDIR /srv/app/sub|false",
		"USER nobody|true",
		"WORKDIR /var/lib/app|false",
		"EXPOSE map[53/udp:{} 8080/tcp:{}]|true",
		"VOLUME [/data /logs]|true",
		"STOPSIGNAL SIGINT|true",
		"HEALTHCHECK {Test:[CMD-SHELL wget -q -O- http://localhost:8080/ || exit 1] Interval:5s Timeout:2s StartPeriod:0s StartInterval:0s Retries:4}|true",
		`SHELL [/bin/sh -ec]|true`,
		`ENTRYPOINT ["/bin/sh" "-c"]|true`,
		`CMD ["/bin/sh" "-ec" "echo $MODE from $BASE"]|true`,
	}
	if strings.Join(created, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(created, "\n"), strings.Join(want, "\n"))
	}
	if st := e.stat(t, res.ImageID, "/srv/app/sub"); st.Uid != 0 {
		t.Fatalf("WORKDIR before USER made a directory owned by %d", st.Uid)
	}
	if st := e.stat(t, res.ImageID, "/var/lib/app"); st.Uid != 65534 {
		t.Fatalf("WORKDIR after USER nobody made a directory owned by %d", st.Uid)
	}

	// ONBUILD triggers run in the child's build, and are not inherited.
	child := writeContext(t, map[string]string{"Dockerfile": "FROM meta:1\nUSER root\nRUN cat /tmp/onbuild.txt\n"})
	res2, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: child})
	if !strings.Contains(rec.output(), "triggered") {
		t.Fatalf("ONBUILD trigger did not run: %q", rec.output())
	}
	cfg2, _, _ := e.store.ConfigFile(res2.ImageID)
	if len(cfg2.Config.OnBuild) != 0 {
		t.Fatalf("child inherited triggers %v", cfg2.Config.OnBuild)
	}
	// ENTRYPOINT in a child drops the base's CMD, as Docker does.
	ep := writeContext(t, map[string]string{"Dockerfile": "FROM meta:1\nENTRYPOINT [\"env\"]\n"})
	res3, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: ep})
	cfg3, _, _ := e.store.ConfigFile(res3.ImageID)
	if cfg3.Config.Cmd != nil {
		t.Fatalf("ENTRYPOINT kept the base CMD %q", cfg3.Config.Cmd)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestRunForms(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "# escape=`\n" + `FROM busybox
RUN ["/bin/sh", "-c", "echo exec form > /exec.txt"]
RUN echo one ` + "`" + `
    two > /continued.txt
RUN <<EOF
echo heredoc shell > /heredoc.txt
echo second line >> /heredoc.txt
EOF
RUN <<EOF
#!/bin/sh
echo "script $0" > /script.txt
EOF
RUN rm /etc/group && mkdir -p /gone && rm -r /gone
RUN true
SHELL ["/bin/sh", "-xc"]
RUN echo via shell > /shell.txt
`})
	res, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: dir, Tags: []string{"runs"}})
	checks := map[string]string{
		"/exec.txt":      "exec form\n",
		"/continued.txt": "one two\n",
		"/heredoc.txt":   "heredoc shell\nsecond line\n",
		"/script.txt":    "script /dev/pipes/EOF\n",
		"/shell.txt":     "via shell\n",
	}
	for p, want := range checks {
		if got, _ := e.readFile(t, res.ImageID, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if _, ok := e.readFile(t, res.ImageID, "/etc/group"); ok {
		t.Error("/etc/group deleted by RUN rm is still in the image")
	}
	if _, ok := e.readFile(t, res.ImageID, "/etc/hosts"); ok {
		t.Error("the RUN container's /etc/hosts mount point leaked into a layer")
	}
	if !strings.Contains(rec.output(), "+ echo via shell") {
		t.Errorf("SHELL -x not used: %q", rec.output())
	}
	cfg, layers, _ := e.store.ConfigFile(res.ImageID)
	// "RUN true" changes nothing: no layer, as BuildKit.
	var runTrue bool
	for _, h := range cfg.History {
		if h.CreatedBy == "RUN /bin/sh -c true # buildkit" {
			runTrue = h.EmptyLayer
		}
	}
	if !runTrue || len(layers) != 7 {
		t.Fatalf("RUN true empty_layer=%v, %d layers (want 7)", runTrue, len(layers))
	}
	// A CMD Docker accepts but that cannot work gets a warning first.
	curly := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCMD [“sh”]\n"})
	if _, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: curly}); !strings.Contains(rec.output(), "Dockerfile:2: CMD uses typographic quotes") {
		t.Fatalf("no warning for curly quotes: %q", rec.output())
	}
}

func TestMultiStageAndTarget(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": `FROM busybox AS Builder
WORKDIR /src
RUN echo compiled > app.bin && mkdir -p out/sub && echo nested > out/sub/n.txt
FROM busybox AS unused
RUN echo never > /never.txt && exit 1
FROM busybox
COPY --from=builder /src/app.bin /usr/local/bin/app
COPY --from=0 /src/out /opt/out
COPY --from=busybox /etc/passwd /copied-passwd
`})
	res, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: dir, Tags: []string{"multi"}})
	for p, want := range map[string]string{"/usr/local/bin/app": "compiled\n", "/opt/out/sub/n.txt": "nested\n"} {
		if got, _ := e.readFile(t, res.ImageID, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if got, _ := e.readFile(t, res.ImageID, "/copied-passwd"); !strings.HasPrefix(got, "root:x:0:0") {
		t.Errorf("COPY --from=image gave %q", got)
	}
	if _, ok := e.readFile(t, res.ImageID, "/src/app.bin"); ok {
		t.Error("the builder stage's files leaked into the final image")
	}
	if strings.Contains(rec.output(), "never") {
		t.Error("a stage the target does not need was built")
	}
	// --target stops at a stage.
	res2, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: dir, Target: "builder"})
	if got, _ := e.readFile(t, res2.ImageID, "/src/app.bin"); got != "compiled\n" {
		t.Fatalf("--target builder: app.bin = %q", got)
	}
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir, Target: "nope"}); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Fatalf("unknown target: %v", err)
	}
}
