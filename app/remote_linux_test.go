package app_test

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// remote is a second Berth engine, the rootless one of another user, on a
// "remote host" reached only through a real sshd on loopback, and the
// docker CLI contexts that name it.
type remote struct {
	person *enginetest.Person
	sshd   *enginetest.SSHD
	// host is the engine's own socket, as the remote user reaches it.
	host string
}

// startRemote starts the remote side as a person would set it up: their
// rootless engine, the docker CLI there pointed at it by the context
// `berth engine start --docker-context` writes (made current), and sshd.
// Here, the client side's contexts are written too: big (the remote), and
// stranger and nodocker, which fail.
func startRemote(t testing.TB) *remote {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("the docker CLI is not installed: a remote engine is reached through `docker system dial-stdio` on the remote host")
	}
	p := enginetest.OrdinaryUser(t)
	r := &remote{person: p, host: p.StartBerthd(t, apptest.Berthd(t))}
	remoteConfig := p.Mkdir(t, filepath.Join(p.Runtime, "docker-config"))
	for _, args := range [][]string{{"context", "create", "berth", "--docker", "host=" + r.host}, {"context", "use", "berth"}} {
		cmd := p.Command(context.Background(), "docker", args...)
		cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+remoteConfig)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %v as the remote user: %v %s", args, err, out)
		}
	}
	r.sshd = enginetest.StartSSHD(t, p, "DOCKER_CONFIG="+remoteConfig)
	t.Setenv("PATH", r.sshd.Wrapper+":"+os.Getenv("PATH"))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	for name, addr := range map[string]string{
		"big":      fmt.Sprintf("ssh://berth-e2e@127.0.0.1:%d", r.sshd.Port),
		"stranger": fmt.Sprintf("ssh://berth-e2e@localhost:%d", r.sshd.Port), // a name known_hosts lacks
		"nodocker": fmt.Sprintf("ssh://berth-e2e@127.0.0.1:%d", r.sshd.NoDockerPort),
	} {
		if err := app.WriteDockerContext(name, "", addr); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func openContext(t testing.TB, name string) (*app.Core, error) {
	t.Helper()
	s := app.DefaultSettings()
	s.Context = name
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return app.Open(ctx, s, nil)
}

// The tutorial through SSH, as the app does it: a docker CLI context
// names the remote engine, and pull, build, run with a port, logs and
// layers all work; the docker CLI through the same context sees the same.
func TestRemoteEngineOverSSH(t *testing.T) {
	startRemote(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	ref := reg.Host + "/library/busybox:1.36"

	core, err := openContext(t, "big")
	if err != nil {
		t.Fatal(app.Explain(err))
	}
	defer core.Close()
	if core.Info().Context != "big" || !strings.Contains(core.Status().Line, "(context big)") || !strings.Contains(core.Info().Product, "Berth") {
		t.Errorf("Info %+v, status %q", core.Info(), core.Status().Line)
	}
	ctx := core.Context()

	tr := app.NewTransfer(nil)
	if err := core.Images.Pull(ctx, ref, tr); err != nil {
		t.Fatal(app.Explain(err))
	}
	if layers, _, _, done, err := tr.Snapshot(); !done || err != nil || len(layers) != 1 || layers[0].Status != "Done" {
		t.Fatalf("pull progress through SSH: %+v %v %v", layers, done, err)
	}

	// A build sends its context up the SSH connection; the second is cached.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+ref+"\nCOPY index.html /www/\nRUN echo built > /www/built\nEXPOSE 80\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello through ssh\n"), 0o644)
	build := func() (cached int) {
		t.Helper()
		_, err := core.Engine.Builder.Build(ctx, engine.BuildOptions{ContextDir: dir, Dockerfile: "Dockerfile", Tags: []string{"remote/site:v1"}}, func(e engine.BuildEvent) {
			if e.Kind == engine.BuildStepCached {
				cached++
			}
		})
		if err != nil {
			t.Fatal(app.Explain(err))
		}
		return cached
	}
	if n := build(); n != 0 {
		t.Errorf("first build: %d steps cached", n)
	}
	if n := build(); n != 3 {
		t.Errorf("rebuild: %d steps cached, want 3 (COPY, RUN, EXPOSE)", n)
	}

	// The port is published on the remote host; the app reaches it through
	// a local port forwarded over SSH.
	id, err := core.Containers.Run(ctx, app.RunOptions{Image: "remote/site:v1", Name: "site", Ports: fmt.Sprintf("%d:80", enginetest.FreePort(t)),
		Command: "echo started && exec httpd -f -p 80 -h /www"})
	if err != nil {
		t.Fatal(app.Explain(err))
	}
	c, err := core.Containers.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if h := core.PortsHost(); h != "127.0.0.1" {
		t.Errorf("PortsHost = %q, want the SSH host", h)
	}
	reach, err := core.Reach(c)
	if err != nil || !strings.HasPrefix(reach.URL, "http://127.0.0.1:") || !strings.Contains(reach.Note, "through SSH") {
		t.Fatalf("Reach = %+v, %v", reach, err)
	}
	var body string
	apptest.WaitFor(t, "the site to answer through the forward", func() bool {
		resp, err := http.Get(reach.URL + "index.html")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == 200
	})
	if body != "hello through ssh\n" {
		t.Errorf("GET through the forward = %q", body)
	}
	var logs []string
	if err := core.Containers.Logs(ctx, id, false, func(e engine.LogEntry) { logs = append(logs, string(e.Data)) }); err != nil || strings.Join(logs, "") != "started\n" {
		t.Errorf("logs through SSH: %q %v", logs, err)
	}
	a, err := app.ImageLayers(ctx, core.Engine.Archives, "remote/site:v1")
	if err != nil || len(a.Layers) != 3 {
		t.Errorf("layers through SSH: %v, %v", a, err)
	}

	// Watch: a save rebuilds on the remote engine and replaces the
	// container there.
	watchPort := enginetest.FreePort(t)
	var results []app.RebuildResult
	rb := &app.Rebuilder{Builder: core.Engine.Builder, Containers: core.Engine.Containers,
		Build:    engine.BuildOptions{ContextDir: dir, Dockerfile: "Dockerfile", Tags: []string{"remote/watched:dev"}},
		Run:      &engine.ContainerSpec{Name: "watched", Cmd: []string{"httpd", "-f", "-p", "80", "-h", "/www"}, Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: watchPort, ContainerPort: 80}}},
		OnResult: func(r app.RebuildResult) { results = append(results, r) }}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("saved once\n"), 0o644)
	rb.Trigger(ctx, []string{"index.html"})
	rb.Wait()
	if len(results) != 1 || results[0].Err != nil {
		t.Fatalf("the watched rebuild over SSH: %+v", results)
	}
	watched, err := core.Containers.Inspect(ctx, "watched")
	if err != nil {
		t.Fatal(err)
	}
	if reach, err := core.Reach(watched); err != nil {
		t.Error(err)
	} else {
		apptest.WaitFor(t, "the rebuilt container to serve the saved file", func() bool {
			resp, err := http.Get(reach.URL + "index.html")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b) == "saved once\n"
		})
	}
	core.Containers.Remove(ctx, rb.Container())

	// The docker CLI, through the same context, sees the same engine.
	out, err := exec.Command("docker", "--context", "big", "ps", "--format", "{{.Names}} {{.Image}}").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "site remote/site:v1" {
		t.Errorf("docker --context big ps: %v %q", err, out)
	}
	if err := core.Containers.Remove(ctx, id); err != nil {
		t.Errorf("remove: %v", err)
	}
}

// An engine behind SSH that cannot be reached says why and what to do:
// a host key not accepted yet, a host without the docker command.
func TestRemoteEngineFailuresSayWhatToDo(t *testing.T) {
	r := startRemote(t)
	for _, tc := range []struct{ context, want string }{
		{"stranger", fmt.Sprintf("accept it by logging in once in a terminal: ssh -p %d berth-e2e@localhost", r.sshd.Port)},
		{"nodocker", "127.0.0.1 has no docker command"},
		{"gone", `there is no engine context "gone"`},
	} {
		_, err := openContext(t, tc.context)
		t.Logf("context %s: %s", tc.context, app.Explain(err))
		if err == nil || !strings.Contains(app.Explain(err), tc.want) {
			t.Errorf("context %s: %v\nwant it to say %q", tc.context, err, tc.want)
		}
		if err != nil && strings.Contains(app.Explain(err), "Is the engine running") {
			t.Errorf("context %s: an SSH failure worded as a stopped engine: %s", tc.context, app.Explain(err))
		}
	}
}

// A connection that drops mid-pull is reported as such, the store keeps
// no half image, and the app goes on over a new connection.
func TestRemoteEngineDroppedMidPull(t *testing.T) {
	r := startRemote(t)
	reg := enginetest.StartRegistry(t)
	big := enginetest.LayerImage(t, func(tw *tar.Writer) {
		data := make([]byte, 32<<20) // random: it stays 32 MB on the wire
		rand.Read(data)
		tw.WriteHeader(&tar.Header{Name: "big.bin", Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	})
	ref := reg.Host + "/big/image:1"
	reg.Push(t, big, "big/image:1")
	core, err := openContext(t, "big")
	if err != nil {
		t.Fatal(app.Explain(err))
	}
	defer core.Close()
	ctx := core.Context()

	core.Follow() // the gallery follows the engine's events, over SSH too
	// Once, at the first progress: later callbacks must not cut the
	// connections the app opens to recover.
	var dropOnce sync.Once
	dropped := 0
	_, err = core.Engine.Registry.Pull(ctx, ref, nil, func(p engine.Progress) {
		dropOnce.Do(func() { dropped = r.sshd.DropSessions() })
	})
	if dropped == 0 {
		t.Fatal("no SSH session to drop")
	}
	t.Logf("the pull reports: %s", app.Explain(err))
	if err == nil || !strings.Contains(app.Explain(err), "the SSH connection to berth-e2e@127.0.0.1") || !strings.Contains(app.Explain(err), "dropped") {
		t.Fatalf("pull across a dropped connection: %v", err)
	}
	// A new connection: the app goes on, and the image pulls whole.
	if _, err := core.Engine.Registry.Pull(ctx, ref, nil, nil); err != nil {
		t.Fatalf("pull after the drop: %v", app.Explain(err))
	}
	list, err := core.Engine.Images.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("images after the drop and a new pull: %+v %v", list, err)
	}
	apptest.WaitFor(t, "the gallery, following over a new connection, to show the image", func() bool {
		return len(core.Images.Rows()) == 1
	})
}
