package app_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine/enginetest"

	"github.com/berth-dev/berth/engine"
)

func TestMain(m *testing.M) { apptest.Main(m) }

func TestConnectWithoutEngineSaysWhy(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("BERTH_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	_, err := app.Open(context.Background(), app.DefaultSettings(), nil, app.WithEngineStarter(func(context.Context, string) (*app.EngineProcess, error) {
		return nil, errors.New("berthd is not installed")
	}))
	if err == nil || !strings.Contains(err.Error(), "starting Berth's engine failed: berthd is not installed") {
		t.Fatalf("Open: %v", err)
	}
	s := app.DefaultSettings()
	s.Engine = "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	if _, err := app.Open(context.Background(), s, nil); err == nil || !strings.Contains(err.Error(), "from settings") {
		t.Fatalf("Connect to a configured engine that is down: %v", err)
	}
}

// An engine the app starts that gives up says why in its own words, and
// the app stops waiting when it ends (not after a timeout).
func TestStartedEngineThatStopsSaysWhy(t *testing.T) {
	apptest.UseBuiltBerthd(t)
	dir := t.TempDir()
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("BERTH_HOST", "unix://"+filepath.Join(dir, "berth.sock"))
	start := app.StartBerthdWith("--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "run"), "--bip", "nope")
	_, err := app.Open(context.Background(), app.DefaultSettings(), nil, app.WithEngineStarter(start))
	if err == nil {
		t.Fatal("Open succeeded with an engine that cannot start")
	}
	for _, want := range []string{"Berth's engine stopped as it started", `bridge address "nope": invalid CIDR address`, "exited with code 1", filepath.Join(dir, "berthd.log")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open: %v\nwant it to say %q", err, want)
		}
	}
	if strings.Contains(app.Explain(err), "Is the engine running") {
		t.Errorf("the engine's own reason is worded as a guess: %s", app.Explain(err))
	}
}

func TestImagesAndContainersFollowTheEngine(t *testing.T) {
	te := apptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	images := app.NewImages(te.Core.Engine.Images, te.Core.Engine.Registry)
	containers := app.NewContainers(te.Core.Engine.Containers)
	go app.Follow(ctx, te.Core.Engine.Events, images, containers)
	time.Sleep(200 * time.Millisecond) // the event stream is open

	ref := te.Registry.Host + "/library/busybox:1.36"
	tr := app.NewTransfer(nil)
	if err := images.Pull(ctx, ref, tr); err != nil {
		t.Fatal(err)
	}
	layers, total, _, done, err := tr.Snapshot()
	if !done || err != nil || total != 1 || len(layers) != 1 || layers[0].Status != "Done" {
		t.Fatalf("pull progress: %+v %v %v %v", layers, total, done, err)
	}
	rows := images.Rows()
	if len(rows) != 1 || rows[0].Repository != te.Registry.Host+"/library/busybox" || rows[0].Tag != "1.36" || len(rows[0].ShortID) != 12 {
		t.Fatalf("rows %+v", rows)
	}
	// The Layers panel and History weigh a layer as the gallery weighs the
	// image: the bytes of its files (they read 2.13 MB and 1.98 MB).
	model, err := app.LoadLayers(ctx, te.Core.Engine.Archives, ref)
	if err != nil {
		t.Fatal(err)
	}
	history, err := te.Core.Engine.Images.History(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	var historySize int64
	for _, h := range history {
		historySize += h.Size
	}
	if len(model.Layers) != 1 || model.Layers[0].Size != rows[0].Size || historySize != rows[0].Size {
		t.Fatalf("the image weighs %d in the gallery, its layer %+v in Layers and %d in History", rows[0].Size, model.Layers, historySize)
	}

	// A tag made elsewhere (the docker CLI, another window) shows up
	// through the event stream, with no refresh from the test.
	if err := te.Core.Engine.Images.Tag(ctx, ref, "app/web:v1"); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, "the new tag in the gallery", func() bool { return len(images.Rows()) == 2 })
	images.SetFilter("app/")
	if r := images.Rows(); len(r) != 1 || r[0].Ref != "app/web:v1" {
		t.Fatalf("filtered %+v", r)
	}
	images.SetFilter("")
	images.SetSort(app.SortName)
	if r := images.Rows(); r[0].Repository > r[1].Repository {
		t.Fatalf("sorted by name %+v", r)
	}

	id, err := containers.Run(ctx, app.RunOptions{Image: "app/web:v1", Name: "site", Ports: "127.0.0.1:0:80",
		Command: "mkdir -p /www && echo hello from the app > /www/index.html && echo started && exec httpd -f -p 80 -h /www"})
	if err != nil {
		t.Fatal(err)
	}
	list := containers.List()
	if len(list) != 1 || list[0].Name != "site" || list[0].State.Status != engine.StatusRunning {
		t.Fatalf("containers %+v", list)
	}
	c, err := containers.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	url := app.URL(c)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL %q for %+v", url, c.Ports)
	}
	var body string
	apptest.WaitFor(t, "the site to answer", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return true
	})
	if body != "hello from the app\n" {
		t.Fatalf("GET %s = %q", url, body)
	}
	var logs []string
	if err := containers.Logs(ctx, id, false, func(e engine.LogEntry) { logs = append(logs, string(e.Data)) }); err != nil || len(logs) != 1 || logs[0] != "started\n" {
		t.Fatalf("logs %q %v", logs, err)
	}
	// Resource use streams from the engine (two samples make the first usage).
	statsCtx, stopStats := context.WithCancel(ctx)
	var u app.Usage
	err = containers.FollowStats(statsCtx, id, func(got app.Usage) { u = got; stopStats() })
	if err != nil || u.MemoryBytes == 0 {
		t.Fatalf("stats %+v %v", u, err)
	}
	// The image is in use: removing it explains why it refuses.
	err = images.Remove(ctx, "app/web:v1", false)
	if err != nil {
		t.Fatalf("untagging one of two names should work: %v", err)
	}
	err = images.Remove(ctx, ref, false)
	if err == nil || !strings.Contains(app.Explain(err), "used by a container") {
		t.Fatalf("removing an image in use: %v / %q", err, app.Explain(err))
	}
	// Stopped from elsewhere: the panel follows.
	te.Core.Engine.Containers.Stop(ctx, id, nil)
	apptest.WaitFor(t, "the stop to show", func() bool {
		l := containers.List()
		return len(l) == 1 && l[0].State.Status == engine.StatusExited
	})
	if err := containers.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if l := containers.List(); len(l) != 0 {
		t.Fatalf("after remove %+v", l)
	}
}

func TestEditorBuildsWithTheEngine(t *testing.T) {
	te := apptest.Start(t)
	ctx := context.Background()
	if _, err := te.Core.Engine.Registry.Pull(ctx, te.Registry.Host+"/library/busybox:1.36", nil, nil); err != nil {
		t.Fatal(err)
	}
	te.Core.Engine.Images.Tag(ctx, te.Registry.Host+"/library/busybox:1.36", "busybox:latest")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nCOPY index.html /www/\nCMD httpd -f -h /www\n"), 0o644)

	ed := app.NewEditor("")
	ed.Debounce = 10 * time.Millisecond
	if err := ed.Open(dir); err != nil {
		t.Fatal(err)
	}
	// Live diagnostics follow the text after a pause, and offer the fix.
	analyzed := make(chan struct{}, 10)
	ed.OnAnalyzed(func() { analyzed <- struct{}{} })
	ed.SetText(ed.Text() + "RUNN echo typo\n")
	select {
	case <-analyzed:
	case <-time.After(5 * time.Second):
		t.Fatal("no analysis after typing")
	}
	var fix *engine.Fix
	var rules []string
	for _, d := range ed.Result().Diagnostics {
		rules = append(rules, d.Rule)
		if d.Rule == "JSONArgsRecommended" {
			fix = d.Fix
		}
	}
	if !strings.Contains(strings.Join(rules, " "), "UnknownInstruction") || fix == nil {
		t.Fatalf("diagnostics %v", rules)
	}
	ed.ApplyFix(fix)
	if !strings.Contains(ed.Text(), `CMD ["httpd", "-f", "-h", "/www"]`) {
		t.Fatalf("fix not applied:\n%s", ed.Text())
	}
	if note := ed.Note(2); !strings.Contains(note, "COPY") || !strings.Contains(note, "adds layer 1") {
		t.Fatalf("note for line 2: %q", note)
	}

	// Building with the typo fails before any step, on its line.
	log := &app.BuildLog{}
	_, err := log.Build(ctx, te.Core.Engine.Builder, ed, app.BuildRequest{Tag: "site:dev"})
	if err == nil || !strings.Contains(app.Explain(err), "RUNN") {
		t.Fatalf("build with a typo: %v", err)
	}
	ed.SetText(strings.Replace(ed.Text(), "RUNN echo typo\n", "RUN echo built > /www/built.txt\n", 1))
	res, err := log.Build(ctx, te.Core.Engine.Builder, ed, app.BuildRequest{Tag: "site:dev"})
	if err != nil || res.ImageID == "" {
		t.Fatalf("build: %v", err)
	}
	steps, _, running, _, _ := log.Snapshot()
	if running || len(steps) != 4 || steps[3].State != app.StepDone || !strings.Contains(steps[3].Instruction, "RUN echo built") || steps[3].Line != 4 {
		t.Fatalf("steps %+v", steps)
	}
	if ed.Dirty() {
		t.Fatal("Build did not save the Dockerfile first")
	}
	res2, _ := log.Build(ctx, te.Core.Engine.Builder, ed, app.BuildRequest{Tag: "site:dev"})
	steps, _, _, _, _ = log.Snapshot()
	if res2.ImageID != res.ImageID || steps[1].State != app.StepCached || steps[3].State != app.StepCached {
		t.Fatalf("rebuild %+v", steps)
	}
	ed.SetText(ed.Text() + "RUN echo failing; exit 4\n")
	if _, err := log.Build(ctx, te.Core.Engine.Builder, ed, app.BuildRequest{Tag: "site:dev"}); err == nil || log.FailedLine() != 5 {
		t.Fatalf("failing build: %v, line %d", err, log.FailedLine())
	}
	steps, _, _, _, _ = log.Snapshot()
	if last := steps[len(steps)-1]; last.State != app.StepFailed || !strings.Contains(last.Output, "failing") {
		t.Fatalf("failed step %+v", last)
	}
}

// Log in: the engine checks the account, the app keeps it where docker
// login does (the docker CLI then finds it too), and sends it with pulls,
// so a private image comes through; a wrong password keeps nothing.
func TestLoginKeepsTheAccountAndPullsWithIt(t *testing.T) {
	te := apptest.Start(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	te.Registry.Push(t, enginetest.Busybox(t), "private/busybox:1")
	te.Registry.RequireLogin(enginetest.Login{User: "me", Password: "s3cret", Bearer: true})
	ref := te.Registry.Host + "/private/busybox:1"
	images := app.NewImages(te.Core.Engine.Images, te.Core.Engine.Registry)
	if err := images.Pull(ctx, ref, app.NewTransfer(nil)); !errors.Is(err, engine.ErrUnauthorized) {
		t.Fatalf("pull before login: %v", err)
	}
	if err := te.Core.Login(ctx, te.Registry.Host, "me", "wrong"); !errors.Is(err, engine.ErrUnauthorized) {
		t.Fatalf("login with a wrong password: %v", err)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json")); err == nil {
		t.Fatal("a refused login was kept")
	}
	if err := te.Core.Login(ctx, te.Registry.Host, "me", "s3cret"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"))
	if !strings.Contains(string(data), te.Registry.Host) || !strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("me:s3cret"))) {
		t.Fatalf("config.json after login:\n%s", data)
	}
	if err := images.Pull(ctx, ref, app.NewTransfer(nil)); err != nil {
		t.Fatalf("pull after login: %v", err)
	}
}

// Disk usage from the real engine through the client (docker system df),
// and Clean up removing a stopped container and what it wrote.
func TestDiskUsageAndCleanUp(t *testing.T) {
	te := apptest.Start(t)
	ctx := context.Background()
	images := app.NewImages(te.Core.Engine.Images, te.Core.Engine.Registry)
	if err := images.Pull(ctx, te.BusyboxRef, app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	id, err := te.Core.Containers.Run(ctx, app.RunOptions{Image: te.BusyboxRef, Command: "head -c 100000 /dev/zero > /w"})
	if err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, "the container to finish", func() bool {
		c, err := te.Core.Engine.Containers.Inspect(ctx, id)
		return err == nil && c.State.Status == engine.StatusExited
	})
	rows, err := te.Core.DiskUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[1].Count != 1 || rows[1].Reclaimable != 100000 || rows[0].Size < 1_000_000 {
		t.Fatalf("disk usage rows %+v", rows)
	}
	if _, err := te.Core.CleanUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := te.Core.Engine.Containers.Inspect(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the stopped container outlived Clean up: %v", err)
	}
	if _, err := te.Core.Engine.Images.Inspect(ctx, te.BusyboxRef); err != nil {
		t.Errorf("Clean up took a named image: %v", err)
	}
}
