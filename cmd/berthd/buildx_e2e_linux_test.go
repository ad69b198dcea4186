package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-dev/berth/engine/enginetest"
)

// dockerWithBuildx is the docker CLI with the buildx plugin beside it, as
// every current Docker install has it: docker build then means docker
// buildx build. It skips, saying why, where the plugin was not built.
func dockerWithBuildx(t *testing.T, host string) *cli {
	t.Helper()
	buildx := os.Getenv("BERTH_TEST_BUILDX")
	if buildx == "" {
		t.Skip("no buildx plugin (packaging/dev/setup.sh test builds it into /var/tmp/berth-test-tools and sets BERTH_TEST_BUILDX)")
	}
	c := dockerCLI(t, host)
	plugins := filepath.Join(c.config, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(buildx, filepath.Join(plugins, "docker-buildx")); err != nil {
		t.Fatal(err)
	}
	return c
}

// tarNames lists the entries of a tar file.
func tarNames(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, strings.TrimPrefix(hdr.Name, "./"))
	}
	return names
}

// startSSHAgent starts an ssh-agent on a socket of the test's, ended by
// its PID when the test ends.
func startSSHAgent(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("ssh-agent is not installed (Debian's openssh-client; packaging/dev/setup.sh test installs it)")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("ssh-agent made no socket")
	return ""
}

// docker build and docker buildx build, with buildx installed, build on
// Berth through BuildKit's API with Berth's builder: no flag, no builder
// container, the image in Berth's store, the cache shared with classic
// builds (the app's), progress as buildx draws it.
func TestBuildxBuildsOnBerth(t *testing.T) {
	host, _ := daemon(t)
	c := dockerWithBuildx(t, host)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Python(t), "library/python:3.11-slim")
	c.ok("pull", "-q", reg.Host+"/library/python:3.11-slim")
	c.ok("tag", reg.Host+"/library/python:3.11-slim", "python:3.11-slim")

	mustContain(t, "buildx ls", c.ok("buildx", "ls"), "docker", "running")
	app := copyDir(t, filepath.Join("..", "..", "testdata", "apps", "pyhello"))
	out := c.ok("build", "--progress=plain", "-t", "me/pyhello:v1", app)
	mustContain(t, "docker build through buildx", out,
		`building with "default" instance using docker driver`,
		"[internal] load build definition from Dockerfile",
		"[internal] load build context",
		`[4/7] RUN python3 -c "import http.server, json; print('standard library ready')"`,
		"standard library ready",
		"naming to me/pyhello:v1 done")
	if strings.Contains(out, "booting buildkit") || strings.Contains(out, "moby/buildkit") {
		t.Errorf("buildx started a BuildKit container instead of building on Berth:\n%s", out)
	}
	if got := c.ok("run", "--rm", "me/pyhello:v1", "python3", "-c", "import os; print(sorted(os.listdir('/app')))"); got != "['.dockerignore', 'Dockerfile', 'app.py', 'requirements.txt']\n" {
		t.Errorf("the built image's /app: %q", got)
	}

	// Again: every step from the cache. After an edit: only what the edit
	// touched, and why, in Berth's words.
	mustContain(t, "a rebuild", c.ok("buildx", "build", "--progress=plain", "-t", "me/pyhello:v1", app), "#7 CACHED")
	appPy := filepath.Join(app, "app.py")
	src, _ := os.ReadFile(appPy)
	os.WriteFile(appPy, append(src, []byte("# edited\n")...), 0o644)
	out = c.ok("build", "--progress=plain", "-t", "me/pyhello:v1", app)
	mustContain(t, "a build after an edit", out, "RUN python3", "CACHED", "Reran because app.py changed (COPY . ., line 7)")

	// The classic builder (the app's) and buildx share one cache.
	classic := c.with("DOCKER_BUILDKIT=0").ok("build", "-t", "me/pyhello:v1", app)
	mustContain(t, "a classic build after buildx's", classic, "Using cache")
	if strings.Contains(classic, "Reran") {
		t.Errorf("the classic build reran what buildx built:\n%s", classic)
	}

	// -f, --build-arg, --target, labels, and a Dockerfile outside the
	// context.
	df := filepath.Join(t.TempDir(), "Dockerfile.dev")
	os.WriteFile(df, []byte("FROM python:3.11-slim AS base\nARG MODE=prod\nRUN echo \"mode=$MODE\" > /mode\nFROM base AS dev\nLABEL stage=dev\n"), 0o644)
	c.ok("build", "-f", df, "--build-arg", "MODE=dev", "--target", "base", "--label", "made=buildx", "-t", "me/pyhello:dev", app)
	if got := c.ok("run", "--rm", "me/pyhello:dev", "cat", "/mode"); got != "mode=dev\n" {
		t.Errorf("--build-arg through buildx: /mode is %q", got)
	}
	if got := c.ok("inspect", "-f", "{{index .Config.Labels \"made\"}} {{index .Config.Labels \"stage\"}}", "me/pyhello:dev"); got != "buildx \n" {
		t.Errorf("--label and --target through buildx: labels %q, want made=buildx and no stage label", got)
	}

	// RUN --mount: a cache kept between builds (the log says what an
	// earlier build left), a secret from --secret, the SSH agent from --ssh
	// (a real round trip: the agent lists its keys through the forward).
	mounts := t.TempDir()
	os.WriteFile(filepath.Join(mounts, "token.txt"), []byte("s3cret"), 0o600)
	os.WriteFile(filepath.Join(mounts, "Dockerfile"), []byte(`FROM python:3.11-slim
ARG RUNS=1
RUN --mount=type=cache,target=/root/.cache/pip sh -c 'ls /root/.cache/pip | wc -l; touch /root/.cache/pip/wheel-$RUNS'
RUN --mount=type=secret,id=token sh -c 'test "$(cat /run/secrets/token)" = s3cret && echo secret-ok > /secret'
RUN --mount=type=ssh python3 -c "import os, socket, struct; s = socket.socket(socket.AF_UNIX); s.connect(os.environ['SSH_AUTH_SOCK']); s.sendall(struct.pack('>IB', 1, 11)); f = s.makefile('rb'); n, kind = struct.unpack('>IB', f.read(5)); print('agent answered', kind)"
`), 0o644)
	agent := startSSHAgent(t)
	c.ok("build", "--secret", "id=token,src="+filepath.Join(mounts, "token.txt"), "--ssh", "default="+agent, "-t", "me/mounts", mounts)
	out = c.ok("build", "--progress=plain", "--build-arg", "RUNS=2", "--secret", "id=token,src="+filepath.Join(mounts, "token.txt"), "--ssh", "default="+agent, "-t", "me/mounts", mounts)
	mustContain(t, "RUN --mount through buildx", out, "cache mount /root/.cache/pip: 0B in 1 files from earlier builds", "agent answered 12")
	if got := c.ok("run", "--rm", "me/mounts", "sh", "-c", "cat /secret; ls /run/secrets 2>&1; ls /root/.cache/pip 2>&1 | wc -l"); !strings.HasPrefix(got, "secret-ok\n") || strings.Contains(got, "token") {
		t.Errorf("the image after RUN --mount: %q, want the secret step's mark and no trace of the secret", got)
	}
	// Without --secret the (optional) secret is not there, as with BuildKit.
	c.fails("/run/secrets/token': No such file or directory", "build", "--no-cache", "-t", "me/mounts", mounts)

	// --push, with the credentials of docker login (through buildx's
	// session), to a registry that asks for them.
	private := enginetest.StartRegistry(t)
	private.RequireLogin(enginetest.Login{User: "me", Password: "s3cret", Bearer: true})
	c.ok("login", private.Host, "-u", "me", "-p", "s3cret")
	mustContain(t, "build --push", c.ok("build", "--progress=plain", "--push", "-t", private.Host+"/me/pyhello:pushed", app), "pushing "+private.Host+"/me/pyhello:pushed")
	c.ok("rmi", private.Host+"/me/pyhello:pushed")
	c.ok("pull", "-q", private.Host+"/me/pyhello:pushed")

	// --output: the image's files, a tarball of them, docker save's
	// archive (loaded back), an OCI layout.
	outDir := t.TempDir()
	c.ok("build", "--output", "type=local,dest="+filepath.Join(outDir, "files"), app)
	if b, err := os.ReadFile(filepath.Join(outDir, "files", "app", "app.py")); err != nil || !strings.Contains(string(b), "# edited") {
		t.Errorf("--output type=local: app/app.py: %v", err)
	}
	for _, format := range []string{"tar", "docker", "oci"} {
		dest := filepath.Join(outDir, format+".tar")
		c.ok("build", "--output", "type="+format+",dest="+dest, "-t", "me/out:"+format, app)
		names := tarNames(t, dest)
		want := map[string]string{"tar": "app/app.py", "docker": "manifest.json", "oci": "index.json"}[format]
		if !slices.Contains(names, want) {
			t.Errorf("--output type=%s: the tarball has no %s: %v", format, want, names)
		}
	}
	mustContain(t, "docker load of --output type=docker", c.ok("load", "-i", filepath.Join(outDir, "docker.tar")), "me/out:docker")

	// docker buildx du and prune read and empty Berth's build cache.
	mustContain(t, "buildx du", c.ok("buildx", "du"), "Total:")
	mustContain(t, "buildx prune", c.ok("buildx", "prune", "-f"), "Total:")
	if out := c.ok("build", "--progress=plain", "-t", "me/pyhello:v1", app); strings.Contains(out, "CACHED") {
		t.Errorf("a build after buildx prune found the cache:\n%s", out)
	}

	// The modern Dockerfile's COPY and ADD flags and heredocs, through buildx.
	modern := t.TempDir()
	page := "served by the test\n"
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, page) }))
	defer pages.Close()
	for name, content := range map[string]string{"src/a/one.txt": "1\n", "src/b/two.txt": "2\n", "run.sh": "echo ran\n"} {
		os.MkdirAll(filepath.Join(modern, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(modern, name), []byte(content), 0o644)
	}
	os.WriteFile(filepath.Join(modern, "Dockerfile"), []byte(fmt.Sprintf(`FROM python:3.11-slim
COPY --parents src/*/one.txt /keep/
COPY --chmod=755 --link run.sh /usr/local/bin/run
ADD --checksum=sha256:%x %s/page.txt /page.txt
COPY <<EOF /hello.txt
from a heredoc
EOF
RUN <<EOF
set -e
run > /ran.txt
EOF
`, sha256.Sum256([]byte(page)), pages.URL)), 0o644)
	c.ok("build", "-t", "me/modern", modern)
	if got := c.ok("run", "--rm", "me/modern", "sh", "-c", "cat /keep/src/a/one.txt /page.txt /hello.txt /ran.txt; stat -c %a /usr/local/bin/run"); got != "1\n"+page+"from a heredoc\nran\n755\n" {
		t.Errorf("the modern Dockerfile's image: %q", got)
	}

	// --build-context: an image for FROM, a folder for COPY --from and
	// RUN --mount=from.
	extra := t.TempDir()
	os.WriteFile(filepath.Join(extra, "notes.txt"), []byte("from a named context\n"), 0o644)
	namedDir := t.TempDir()
	os.WriteFile(filepath.Join(namedDir, "Dockerfile"), []byte("FROM base\nCOPY --from=extra notes.txt /notes.txt\nRUN --mount=from=extra,target=/extra cp /extra/notes.txt /mounted.txt\n"), 0o644)
	c.ok("build", "--build-context", "base=docker-image://python:3.11-slim", "--build-context", "extra="+extra, "-t", "me/named", namedDir)
	if got := c.ok("run", "--rm", "me/named", "cat", "/notes.txt", "/mounted.txt"); got != "from a named context\nfrom a named context\n" {
		t.Errorf("the named contexts' image: %q", got)
	}

	// docker build --check answers with Berth's validator (the editor's),
	// under BuildKit's rule names, and fails when it finds something.
	checked := t.TempDir()
	os.WriteFile(filepath.Join(checked, "Dockerfile"), []byte("FROM python:3.11-slim\nCMD python3 app.py\n"), 0o644)
	out, ok := c.run("build", "--check", checked)
	if ok {
		t.Errorf("docker build --check of a Dockerfile with a warning succeeded:\n%s", out)
	}
	mustContain(t, "docker build --check", out, "Check complete, 1 warning has been found!", "JSONArgsRecommended")
	os.WriteFile(filepath.Join(checked, "Dockerfile"), []byte("FROM python:3.11-slim\nCMD [\"python3\", \"app.py\"]\n"), 0o644)
	mustContain(t, "docker build --check of a clean Dockerfile", c.ok("build", "--check", checked), "Check complete, no warnings found.")

	// Failures read as failures, with what failed.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "Dockerfile"), []byte("FROM python:3.11-slim\nRUN echo about to fail && exit 3\n"), 0o644)
	c.fails("returned a non-zero code: 3", "build", "-t", "bad", bad)
	os.WriteFile(filepath.Join(bad, "Dockerfile"), []byte("FROM python:3.11-slim\nRUNN echo\n"), 0o644)
	c.fails("unknown instruction: RUNN", "build", bad)
	c.fails("cannot export --output type=registry-cache", "build", "--output", "type=registry-cache", app)
	c.fails("cannot emulate linux/sparc64", "build", "--platform", "linux/sparc64", app)
}

// docker build URL: a Git repository (over smart HTTP, as GitHub serves
// them, with #ref:folder), a tarball and a Dockerfile alone over HTTP,
// fetched by the engine; and the classic API's remote= (docker-py's).
func TestBuildRemoteContexts(t *testing.T) {
	d := startDaemon(t)
	c := dockerWithBuildx(t, d.host)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("tag", reg.Host+"/library/busybox", "busybox")
	// A repository with the app in a folder, on a branch.
	repo := enginetest.GitRepo(t, map[string]string{"web/Dockerfile": "FROM busybox\nCOPY page.txt /page.txt\n", "web/page.txt": "from git\n"}, "release")
	c.ok("build", "-t", "me/fromgit", repo+"#release:web")
	if got := c.ok("run", "--rm", "me/fromgit", "cat", "/page.txt"); got != "from git\n" {
		t.Errorf("a build from Git: /page.txt = %q", got)
	}

	// A tarball, and a Dockerfile alone.
	var tarball bytes.Buffer
	gz := gzip.NewWriter(&tarball)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{"Dockerfile": "FROM busybox\nCOPY page.txt /page.txt\n", "page.txt": "from a tarball\n"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ctx.tar.gz":
			w.Write(tarball.Bytes())
		case "/Dockerfile":
			io.WriteString(w, "FROM busybox\nRUN echo from a lone Dockerfile > /page.txt\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer files.Close()
	for url, want := range map[string]string{files.URL + "/ctx.tar.gz": "from a tarball\n", files.URL + "/Dockerfile": "from a lone Dockerfile\n"} {
		c.ok("build", "-t", "me/fromhttp", url)
		if got := c.ok("run", "--rm", "me/fromhttp", "cat", "/page.txt"); got != want {
			t.Errorf("a build from %s: /page.txt = %q, want %q", url, got, want)
		}
	}
	c.fails("404 Not Found", "build", files.URL+"/missing.tar.gz")

	// The classic API's remote=, as docker-py sends it.
	code, body := d.api(t, http.MethodPost, "/build?t=me/classicgit&remote="+url.QueryEscape(repo+"#release:web"), nil)
	if code != http.StatusOK || !strings.Contains(body, "Successfully tagged me/classicgit") {
		t.Errorf("POST /build?remote=: %d %s", code, body)
	}
}

// --cache-to type=registry (and type=local, a folder of the client's)
// exports the build's steps; another engine with --cache-from builds
// from them without rerunning any.
func TestBuildxCacheExportAndImport(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Python(t), "library/python:3.11-slim")
	app := copyDir(t, filepath.Join("..", "..", "testdata", "apps", "pyhello"))
	engine := func() *cli {
		host, _ := daemon(t)
		c := dockerWithBuildx(t, host)
		c.ok("pull", "-q", reg.Host+"/library/python:3.11-slim")
		c.ok("tag", reg.Host+"/library/python:3.11-slim", "python:3.11-slim")
		return c
	}
	cacheRef := reg.Host + "/me/pyhello:buildcache"
	first := engine()
	cacheDir := filepath.Join(t.TempDir(), "cache")
	mustContain(t, "--cache-to", first.ok("build", "--progress=plain", "--cache-to", "type=registry,ref="+cacheRef, "--cache-to", "type=local,dest="+cacheDir, "-t", "me/pyhello", app), "exporting cache to "+cacheRef, "exporting cache to "+cacheDir)
	if _, err := os.Stat(filepath.Join(cacheDir, "index.json")); err != nil {
		t.Errorf("--cache-to type=local wrote no index.json: %v", err)
	}
	if out := first.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); strings.Contains(out, "buildcache") {
		t.Errorf("the exported cache stayed among the images:\n%s", out)
	}

	second := engine()
	out := second.ok("build", "--progress=plain", "--cache-from", "type=registry,ref="+cacheRef, "-t", "me/pyhello", app)
	mustContain(t, "--cache-from on another engine", out, "importing cache from "+cacheRef, "CACHED")
	if n := strings.Count(out, "CACHED"); n != 6 {
		t.Errorf("%d of the 6 steps after FROM came from the imported cache:\n%s", n, out)
	}
	if got := second.ok("run", "--rm", "me/pyhello", "ls", "/app"); !strings.Contains(got, "app.py") {
		t.Errorf("the image built from the imported cache: /app holds %q", got)
	}
	second.fails("keeps its cache in a registry or a folder", "build", "--cache-to", "type=s3,region=x,bucket=y", app)

	third := engine()
	out = third.ok("build", "--progress=plain", "--cache-from", "type=local,src="+cacheDir, "-t", "me/pyhello", app)
	if n := strings.Count(out, "CACHED"); n != 6 {
		t.Errorf("--cache-from type=local: %d of the 6 steps after FROM came from the folder's cache:\n%s", n, out)
	}

	// type=inline: the pushed image carries its own cache, and another
	// engine builds from the image's name.
	inline := reg.Host + "/me/pyhello:inline"
	third.ok("build", "--cache-to", "type=inline", "--push", "-t", inline, app)
	fourth := engine()
	out = fourth.ok("build", "--progress=plain", "--cache-from", "type=registry,ref="+inline, "-t", "me/pyhello", app)
	if n := strings.Count(out, "CACHED"); n != 6 {
		t.Errorf("--cache-from an image built with --cache-to type=inline: %d of the 6 steps after FROM came from its cache:\n%s", n, out)
	}
}

// --platform linux/arm64 on this machine: the base image's arm64 variant,
// RUN steps under QEMU's emulation, an arm64 image that runs the same way.
func TestBuildxBuildsForAnotherCPU(t *testing.T) {
	if goruntime.GOARCH != "amd64" {
		t.Skip("the test builds for arm64 from amd64")
	}
	arm := enginetest.BusyboxArm64(t)
	if _, err := os.Stat("/usr/lib/binfmt.d/qemu-aarch64.conf"); err != nil {
		t.Skip("qemu-user-static is not installed (packaging/dev/setup.sh test installs it)")
	}
	// Unregistered, as on a machine without systemd-binfmt: the engine
	// registers QEMU itself (and leaves it so, as installing it would).
	os.WriteFile("/proc/sys/fs/binfmt_misc/qemu-aarch64", []byte("-1"), 0)
	host, _ := daemon(t)
	c := dockerWithBuildx(t, host)
	reg := enginetest.StartRegistry(t)
	base := reg.PushIndex(t, map[string]v1.Image{"linux/amd64": enginetest.Busybox(t), "linux/arm64/v8": arm}, "library/multi:latest")
	c.ok("pull", "-q", base) // the host's: the name stays on it
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nARG TARGETARCH\nRUN uname -m > /machine && echo $TARGETARCH > /target\n"), 0o644)
	out := c.ok("build", "--progress=plain", "--platform", "linux/arm64", "-t", "me/arm", dir)
	mustContain(t, "a build for linux/arm64", out, "for linux/arm64/v8")
	if got := c.ok("image", "inspect", "-f", "{{.Architecture}}", "me/arm"); got != "arm64\n" {
		t.Errorf("the image's architecture is %q", got)
	}
	if got := c.ok("run", "--rm", "me/arm", "cat", "/machine", "/target"); got != "aarch64\narm64\n" {
		t.Errorf("the arm64 RUN step saw %q, want aarch64 and TARGETARCH arm64", got)
	}
	if got := c.ok("image", "inspect", "-f", "{{.Architecture}}", base); got != "amd64\n" {
		t.Errorf("the base image's name moved to the %q image", got)
	}

	// Both at once: pushed as one multi-platform image; kept in the
	// engine they cannot be (one image per name), and it says what to do.
	multi := reg.Host + "/me/multi:1"
	out = c.ok("build", "--progress=plain", "--platform", "linux/amd64,linux/arm64", "--push", "-t", multi, dir)
	mustContain(t, "a multi-platform build", out, "[linux/arm64 3/3] RUN", "[linux/amd64 3/3] RUN", "pushing "+multi+" for 2 platforms")
	idx, err := remote.Index(mustRef(t, multi))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	var platforms []string
	for _, d := range m.Manifests {
		platforms = append(platforms, d.Platform.Architecture)
	}
	slices.Sort(platforms)
	if !slices.Equal(platforms, []string{"amd64", "arm64"}) {
		t.Errorf("the pushed index holds %v, want amd64 and arm64", platforms)
	}
	c.ok("pull", "-q", multi)
	if got := c.ok("run", "--rm", multi, "cat", "/machine"); got != "x86_64\n" {
		t.Errorf("the pulled multi-platform image is for %q, want this machine's", got)
	}
	c.fails("add --push", "build", "--platform", "linux/amd64,linux/arm64", "-t", "me/multi", dir)
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
