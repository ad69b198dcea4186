package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: int64(len(content)), Typeflag: tar.TypeReg, Uid: 1234, Gid: 1234, ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(content))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestCopyAndAdd(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
		w.Write([]byte("remote content\n"))
	}))
	defer srv.Close()
	dir := writeContext(t, map[string]string{
		"Dockerfile": `FROM busybox
COPY *.txt /texts/
COPY src /app/
COPY src/main.sh /bin/main
COPY --chown=nobody:nogroup --chmod=640 secret.cfg /etc/app/
COPY --chown=1000:1000 src/lib/ /opt/lib
COPY logs /logs
COPY <<EOF /etc/motd
welcome
EOF
ADD bundle.tar.gz /bundle/
ADD ` + srv.URL + `/files/remote.txt /downloads/
ADD data.csv /data/
COPY linkdir /links/
WORKDIR /work
COPY a.txt relative.txt
`,
		"a.txt":            "A\n",
		"b.txt":            "B\n",
		"src/main.sh":      "#!/bin/sh\necho main\n",
		"src/lib/util.sh":  "util\n",
		"secret.cfg":       "secret\n",
		"data.csv":         "x,y\n",
		"logs/keep.log":    "keep\n",
		"logs/debug.log":   "debug\n",
		"logs/sub/x.tmp":   "tmp\n",
		".dockerignore":    "logs/*.log\n!logs/keep.log\n**/*.tmp\n",
		"ignored/file.txt": "never\n",
	})
	os.WriteFile(filepath.Join(dir, "bundle.tar.gz"), tarGz(t, map[string]string{"inner/readme.md": "from the archive\n"}), 0o644)
	os.Chmod(filepath.Join(dir, "src/main.sh"), 0o755)
	// A symlink that points outside the context is copied as a symlink,
	// never followed: the host's file stays out of the image.
	os.Mkdir(filepath.Join(dir, "linkdir"), 0o755)
	os.Symlink("/etc/shadow", filepath.Join(dir, "linkdir", "link-out"))
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("logs/*.log\n!logs/keep.log\n**/*.tmp\nignored\n"), 0o644)

	res, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: dir, Tags: []string{"copies"}})
	want := map[string]string{
		"/texts/a.txt":                "A\n",
		"/texts/b.txt":                "B\n",
		"/app/main.sh":                "#!/bin/sh\necho main\n",
		"/app/lib/util.sh":            "util\n",
		"/bin/main":                   "#!/bin/sh\necho main\n",
		"/etc/app/secret.cfg":         "secret\n",
		"/opt/lib/util.sh":            "util\n",
		"/logs/keep.log":              "keep\n",
		"/etc/motd":                   "welcome\n",
		"/bundle/inner/readme.md":     "from the archive\n",
		"/downloads/remote.txt":       "remote content\n",
		"/data/data.csv":              "x,y\n",
		"/work/relative.txt":          "A\n",
		"/links/link-out":             "-> /etc/shadow",
		"/bundle/bundle.tar.gz":       "",
		"/logs/debug.log":             "",
		"/logs/sub/x.tmp":             "",
		"/texts/ignored":              "",
		"/app/lib/../../ignored/file": "",
	}
	for p, content := range want {
		got, ok := e.readFile(t, res.ImageID, p)
		if content == "" {
			if ok {
				t.Errorf("%s is in the image (%q), should not be", p, got)
			}
			continue
		}
		if got != content {
			t.Errorf("%s = %q (present %v), want %q", p, got, ok, content)
		}
	}
	if st := e.stat(t, res.ImageID, "/etc/app/secret.cfg"); st.Uid != 65534 || st.Gid != 65534 || st.Mode&0o7777 != 0o640 {
		t.Errorf("--chown=nobody:nogroup --chmod=640 gave %d:%d %o", st.Uid, st.Gid, st.Mode&0o7777)
	}
	if st := e.stat(t, res.ImageID, "/opt/lib/util.sh"); st.Uid != 1000 {
		t.Errorf("--chown=1000:1000 gave uid %d", st.Uid)
	}
	if st := e.stat(t, res.ImageID, "/bin/main"); st.Mode&0o111 == 0 || st.Uid != 0 {
		t.Errorf("COPY kept mode %o uid %d, want executable, root", st.Mode&0o7777, st.Uid)
	}
	if st := e.stat(t, res.ImageID, "/bundle/inner/readme.md"); st.Uid != 1234 || st.Mode&0o777 != 0o640 {
		t.Errorf("ADD archive entry %d %o, want the archive's 1234 and 0640", st.Uid, st.Mode&0o777)
	}
	if st := e.stat(t, res.ImageID, "/downloads/remote.txt"); st.Mode&0o777 != 0o600 || st.Mtim.Sec != 1700000000 {
		t.Errorf("ADD URL mode %o mtime %d, want 0600 and Last-Modified", st.Mode&0o777, st.Mtim.Sec)
	}
}

func TestCopyErrors(t *testing.T) {
	e := newEnv(t)
	secretDir := t.TempDir()
	os.WriteFile(filepath.Join(secretDir, "host.txt"), []byte("host secret\n"), 0o644)
	cases := []struct {
		name, dockerfile string
		files            map[string]string
		want             string
	}{
		{"missing source", "FROM busybox\nCOPY app.py /app/\n", nil, `Dockerfile:2: COPY app.py /app/: "app.py" not found`},
		{"ignored source", "FROM busybox\nCOPY secret.txt /\n", map[string]string{"secret.txt": "x", ".dockerignore": "secret.txt\n"}, `"secret.txt" not found`},
		{"escape with ..", "FROM busybox\nCOPY ../../../../etc/passwd /stolen\n", nil, `not found`},
		{"symlink source outside", "FROM busybox\nCOPY out/host.txt /stolen\n", nil, `"out/host.txt" not found`},
		{"many sources to a file", "FROM busybox\nCOPY a b /file\n", map[string]string{"a": "a", "b": "b"}, "must be a directory and end with a /"},
		{"bad chmod", "FROM busybox\nCOPY --chmod=999 a /\n", map[string]string{"a": "a"}, "invalid --chmod=999"},
		{"unknown user", "FROM busybox\nCOPY --chown=ghost a /\n", map[string]string{"a": "a"}, `unable to find user or group "ghost"`},
		{"later stage", "FROM busybox AS first\nCOPY --from=later /x /\nFROM busybox AS later\nFROM first\n", nil, "defined later"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"Dockerfile": tc.dockerfile}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := writeContext(t, files)
			os.Symlink(secretDir, filepath.Join(dir, "out"))
			_, rec, err := e.build(t, engine.BuildOptions{ContextDir: dir, Tags: []string{"broken"}})
			if err == nil {
				t.Fatal("build succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q (%s)", err, tc.want, rec.output())
			}
			if _, _, err := e.store.Resolve("broken"); err == nil {
				t.Fatal("a failed build left an image tagged")
			}
		})
	}
}

func TestSyntaxErrorsFailBeforeAnyStep(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ dockerfile, want string }{
		{"FROM busybox\nRUN echo ok\nRUNN echo typo\n", "Dockerfile:3: unknown instruction: RUNN (did you mean RUN?)"},
		{"RUN echo\nFROM busybox\n", "Dockerfile:1: instructions before the first FROM"},
		{"", "the Dockerfile is empty"},
		{"FROM busybox\nCOPY --nope=1 a b\n", "Dockerfile:2: unknown flag: --nope"},
		{"FROM busybox\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument"},
		{"FROM busybox\nENV\n", "Dockerfile:2: ENV requires at least one argument"},
		{"FROM busybox\nRUN <<EOF\necho never closed\n", "unterminated heredoc"},
		{"FROM busybox\nEXPOSE 99999\n", "Dockerfile:2: EXPOSE 99999: invalid EXPOSE"},
	}
	for _, tc := range cases {
		dir := writeContext(t, map[string]string{"Dockerfile": tc.dockerfile})
		_, rec, err := e.build(t, engine.BuildOptions{ContextDir: dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.dockerfile, err, tc.want)
			continue
		}
		if !strings.Contains(tc.want, "EXPOSE 99999") {
			for _, ev := range rec.events {
				if ev.Kind == engine.BuildStepStarted {
					t.Errorf("%q: step %q started before the syntax error", tc.dockerfile, ev.Instruction)
				}
			}
		}
	}
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\n"})
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir, Dockerfile: "Dockerfile.missing"}); err == nil || !strings.Contains(err.Error(), `cannot find the Dockerfile "Dockerfile.missing"`) {
		t.Errorf("missing -f file: %v", err)
	}
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir, Tags: []string{"Bad Name"}}); !errors.Is(err, engine.ErrInvalidReference) {
		t.Errorf("bad tag: %v", err)
	}
}

func TestFailingStepReportsAndLeavesNothing(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo first > /first.txt\nRUN echo about to fail; ls /nope; exit 7\nRUN echo never\n"})
	_, rec, err := e.build(t, engine.BuildOptions{ContextDir: dir, Tags: []string{"fails"}})
	var se *engine.BuildStepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a BuildStepError", err, err)
	}
	if se.ExitCode != 7 || se.Line != 3 || se.Step != 3 || !strings.Contains(se.Error(), "returned a non-zero code: 7") {
		t.Fatalf("step error %+v: %v", se, se)
	}
	if out := rec.output(); !strings.Contains(out, "about to fail") || !strings.Contains(out, "ls: /nope") {
		t.Fatalf("the failing step's output was not reported: %q", out)
	}
	if _, _, err := e.store.Resolve("fails"); err == nil {
		t.Fatal("a failed build tagged an image")
	}
	assertNoLeftovers(t, e)
	// The steps before the failure are cached for the next try.
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN echo first > /first.txt\nRUN echo fixed\n"), 0o644)
	_, rec = e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
	if got := rec.kinds(); !equal(got, []string{"1:done", "2:cached", "3:done"}) {
		t.Fatalf("after the fix %v", got)
	}
}

// assertNoLeftovers checks that no build mount, container or temporary
// layer is left behind.
func assertNoLeftovers(t *testing.T, e *env) {
	t.Helper()
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), e.data) {
		t.Errorf("mounts left under the data root:\n%s", mounts)
	}
	for _, d := range []string{filepath.Join(e.data, "images", "tmp"), filepath.Join(e.data, "build", "mnt")} {
		entries, _ := os.ReadDir(d)
		for _, en := range entries {
			t.Errorf("left in %s: %s", d, en.Name())
		}
	}
	if list, _ := e.rt.List(context.Background(), true); len(list) != 0 {
		t.Errorf("containers left: %v", list)
	}
}

func TestCancelStopsTheStepAndLeavesNothing(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo started; sleep 60 & sleep 60\n"})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once bool
	done := make(chan error, 1)
	go func() {
		_, err := e.builder.Build(ctx, engine.BuildOptions{ContextDir: dir, Tags: []string{"cancelled"}}, func(ev engine.BuildEvent) {
			if ev.Kind == engine.BuildStepOutput && !once {
				once = true
				close(started)
			}
		})
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("RUN did not start")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled build returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not stop the build")
	}
	if _, _, err := e.store.Resolve("cancelled"); err == nil {
		t.Fatal("a cancelled build tagged an image")
	}
	assertNoLeftovers(t, e)
}

func TestCacheSurvivesRestartAndPrune(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo cached > /c.txt\nCOPY f /f\n", "f": "data\n"})
	first, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
	// A new builder over the same directory: an engine restart.
	b2, err := New(filepath.Join(e.data, "build"), e.store, nil, e.rt)
	if err != nil {
		t.Fatal(err)
	}
	e.builder = b2
	again, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
	if got := rec.kinds(); !equal(got, []string{"1:done", "2:cached", "3:cached"}) || again.ImageID != first.ImageID {
		t.Fatalf("after a restart %v, %s vs %s", got, again.ImageID, first.ImageID)
	}
	// The image holds its layers; removing it leaves them to the cache.
	if _, err := e.store.Remove(context.Background(), again.ImageID, true); err != nil {
		t.Fatal(err)
	}
	_, rec = e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
	if got := rec.kinds(); !equal(got, []string{"1:done", "2:cached", "3:cached"}) {
		t.Fatalf("cache lost its layers when the image was removed: %v", got)
	}
	rep, err := e.builder.PruneCache(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 2 {
		t.Fatalf("prune deleted %v", rep.Deleted)
	}
	_, rec = e.mustBuild(t, engine.BuildOptions{ContextDir: dir, NoCache: false})
	if got := rec.kinds(); !equal(got, []string{"1:done", "2:done", "3:done"}) {
		t.Fatalf("after prune %v", got)
	}
	// --no-cache reruns everything even with a warm cache.
	_, rec = e.mustBuild(t, engine.BuildOptions{ContextDir: dir, NoCache: true})
	if got := rec.kinds(); !equal(got, []string{"1:done", "2:done", "3:done"}) {
		t.Fatalf("--no-cache %v", got)
	}
	// With no image and an empty cache, collection frees the layers.
	e.store.Prune(context.Background(), false)
	if _, err := e.builder.PruneCache(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	list, _ := e.store.List(context.Background())
	if len(list) != 1 { // busybox
		t.Fatalf("images left: %v", list)
	}
	entries, _ := os.ReadDir(filepath.Join(e.data, "images", "layers", "sha256"))
	if len(entries) != 1 {
		t.Fatalf("%d layers left after pruning everything, want busybox's 1", len(entries))
	}
}

func TestBuildArgsScope(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": `ARG TAG=latest
FROM busybox:${TAG}
ARG TARGETARCH
ARG UNSET
ENV FROM_ENV=env
ARG FROM_ENV=arg
RUN echo "arch=$TARGETARCH unset=[$UNSET] env=$FROM_ENV tag=[$TAG] proxy=$HTTP_PROXY" > /args.txt
`})
	proxy := "http://proxy:3128"
	unused := "x"
	res, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: dir, BuildArgs: map[string]*string{"HTTP_PROXY": &proxy, "NOT_DECLARED": &unused}})
	got, _ := e.readFile(t, res.ImageID, "/args.txt")
	if want := "arch=" + hostPlatform()[len("linux/"):] + " unset=[] env=env tag=[] proxy=http://proxy:3128\n"; got != want {
		t.Fatalf("args.txt = %q, want %q", got, want)
	}
	if !strings.Contains(rec.output(), "[NOT_DECLARED] were not consumed") {
		t.Fatalf("no warning about the unused build arg: %q", rec.output())
	}
	cfg, _, _ := e.store.ConfigFile(res.ImageID)
	for _, h := range cfg.History {
		if strings.Contains(h.CreatedBy, "proxy:3128") {
			t.Fatalf("a proxy build arg leaked into the history: %q", h.CreatedBy)
		}
	}
}

// COPY --parents keeps each source's path (or what follows a "/./"),
// ADD --checksum checks a download, ADD of a Git repository copies its
// files (with .git only for --keep-git-dir).
func TestModernCopyFlags(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("remote content\n")) }))
	defer srv.Close()
	sum := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("remote content\n")))
	repo := enginetest.GitRepo(t, map[string]string{"README": "from git\n", "sub/x.txt": "x\n"}, "main")
	for _, tc := range []struct {
		name, dockerfile string
		want             map[string]string // path in the image → content ("" : must be absent)
		wantErr          string
	}{
		{name: "parents", dockerfile: "COPY --parents a/one.txt b/c/two.txt /dst/",
			want: map[string]string{"/dst/a/one.txt": "1\n", "/dst/b/c/two.txt": "2\n", "/dst/one.txt": ""}},
		{name: "parents with a glob", dockerfile: "COPY --parents */one.txt /dst/",
			want: map[string]string{"/dst/a/one.txt": "1\n"}},
		{name: "parents after a pivot", dockerfile: "COPY --parents b/./c/two.txt /dst/",
			want: map[string]string{"/dst/c/two.txt": "2\n", "/dst/b/c/two.txt": ""}},
		{name: "checksum matches", dockerfile: "ADD --checksum=" + sum + " " + srv.URL + "/f.txt /f.txt",
			want: map[string]string{"/f.txt": "remote content\n"}},
		{name: "checksum differs", dockerfile: "ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 " + srv.URL + "/f.txt /f.txt",
			wantErr: "downloaded with " + sum},
		{name: "git repository", dockerfile: "ADD " + repo + " /src",
			want: map[string]string{"/src/README": "from git\n", "/src/sub/x.txt": "x\n", "/src/.git/HEAD": ""}},
		{name: "git keeping .git", dockerfile: "ADD --keep-git-dir=true " + repo + " /src",
			want: map[string]string{"/src/README": "from git\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\n" + tc.dockerfile + "\n", "a/one.txt": "1\n", "b/c/two.txt": "2\n"})
			res, ok := e.buildOrFail(t, engine.BuildOptions{ContextDir: ctx}, tc.wantErr)
			if !ok {
				return
			}
			for p, want := range tc.want {
				got, ok := e.readFile(t, res.ImageID, p)
				if want == "" && ok {
					t.Errorf("%s is in the image", p)
				} else if want != "" && got != want {
					t.Errorf("%s = %q (there: %v), want %q", p, got, ok, want)
				}
			}
			if tc.name == "git keeping .git" {
				if _, ok := e.readFile(t, res.ImageID, "/src/.git/HEAD"); !ok {
					t.Error("--keep-git-dir left out .git")
				}
			}
		})
	}
}

// --build-context names stand in for stages and images: an image for
// FROM, a folder for COPY --from and RUN --mount=from (its files in the
// key), never a folder as a base.
func TestNamedContexts(t *testing.T) {
	e := newEnv(t)
	extra := writeContext(t, map[string]string{"notes.txt": "one\n"})
	named := map[string]engine.NamedContext{"base": {Image: "busybox"}, "extra": {Dir: extra}}
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM base\nCOPY --from=extra notes.txt /notes.txt\nRUN --mount=from=extra,target=/x cp /x/notes.txt /mounted.txt\n"})
	res, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"named"}, NamedContexts: named})
	for _, p := range []string{"/notes.txt", "/mounted.txt"} {
		if got, _ := e.readFile(t, res.ImageID, p); got != "one\n" {
			t.Errorf("%s = %q", p, got)
		}
	}
	os.WriteFile(filepath.Join(extra, "notes.txt"), []byte("two\n"), 0o644)
	res, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"named"}, NamedContexts: named})
	if got, _ := e.readFile(t, res.ImageID, "/notes.txt"); got != "two\n" || !strings.Contains(messages(rec), "Reran because notes.txt changed") {
		t.Errorf("after editing the named folder: /notes.txt = %q, reasons:\n%s", got, messages(rec))
	}
	bad := writeContext(t, map[string]string{"Dockerfile": "FROM extra\n"})
	e.buildOrFail(t, engine.BuildOptions{ContextDir: bad, NamedContexts: named}, "a base must be an image")
}
