package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestUpdateFlagIsOff keeps -update from being left on in CI.
func TestUpdateFlagIsOff(t *testing.T) {
	if *update && os.Getenv("CI") != "" {
		t.Fatal("-update must not run in CI")
	}
}

func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if got != string(want) {
		t.Errorf("differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

type file struct {
	name, link string
	kind       byte
	size       int
	mode       int64
}

func layerTar(t *testing.T, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.kind, Mode: f.mode, Linkname: f.link}
		if h.Mode == 0 {
			h.Mode = 0o644
			if f.kind == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if f.kind == tar.TypeReg {
			h.Size = int64(f.size)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.kind == tar.TypeReg {
			tw.Write(bytes.Repeat([]byte("x"), f.size))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func reg(name string, size int) file { return file{name: name, kind: tar.TypeReg, size: size} }
func dir(name string) file           { return file{name: name, kind: tar.TypeDir} }

// knownImage has three layers with every kind of change:
//
//	0: dirs, files, a symlink, a hard link, an apt-style cache
//	1: overwrites a file, deletes another, deletes the cache (waste),
//	   makes /opt opaque (hiding what layer 0 put there)
//	2: metadata steps only around a small file
func knownImage(t *testing.T) v1.Image {
	t.Helper()
	layers := [][]byte{
		layerTar(t, dir("etc/"), reg("etc/app.conf", 100), dir("bin/"), reg("bin/tool", 1000),
			file{name: "bin/tool-link", kind: tar.TypeSymlink, link: "/bin/tool"},
			file{name: "bin/tool-hard", kind: tar.TypeLink, link: "bin/tool"},
			dir("var/cache/apt/"), reg("var/cache/apt/pkgcache.bin", 5000), dir("opt/"), reg("opt/old", 300)),
		layerTar(t, dir("etc/"), reg("etc/app.conf", 120), dir("bin/"), reg("bin/.wh.tool", 0),
			dir("var/cache/"), reg("var/cache/.wh.apt", 0),
			dir("opt/"), reg("opt/.wh..wh..opq", 0), reg("opt/new", 10)),
		layerTar(t, dir("app/"), reg("app/main.py", 42)),
	}
	steps := []string{"ADD rootfs.tar / # layer 0", "RUN apt-get update && rm -rf /var/cache/apt # layer 1", "COPY main.py /app/ # layer 2"}
	img := mutate.MediaType(empty.Image, "application/vnd.docker.distribution.manifest.v2+json")
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.History = []v1.History{{CreatedBy: "ARG VERSION=1", EmptyLayer: true}}
	img, _ = mutate.ConfigFile(img, cfg)
	for i, data := range layers {
		data := data
		l, err := tarball.LayerFromOpener(func() (readCloser, error) { return nopCloser{bytes.NewReader(data)}, nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: steps[i]}}); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			img, _ = mutate.Append(img, mutate.Addendum{History: v1.History{CreatedBy: "ENV MODE=prod", EmptyLayer: true}})
		}
	}
	img, _ = mutate.Append(img, mutate.Addendum{History: v1.History{CreatedBy: `CMD ["python", "/app/main.py"]`, EmptyLayer: true}})
	return img
}

func report(a *Analysis) string {
	var b strings.Builder
	a.WriteReport(&b, 10)
	b.WriteString("\ntips:\n")
	for _, tip := range a.Tips() {
		b.WriteString("  " + tip.Message + "\n")
	}
	for _, l := range a.Layers {
		b.WriteString("\nlayer " + itoa(l.Index) + ":\n")
		for _, c := range l.Changes {
			b.WriteString("  " + c.Change.String() + " /" + c.Path + describe(c.Entry) + "\n")
		}
	}
	return b.String()
}

func describe(e Entry) string {
	var s []string
	switch {
	case e.Whiteout:
		return ""
	case e.HardLink:
		s = append(s, "hard link to /"+e.LinkTarget)
	case e.LinkTarget != "":
		s = append(s, "-> "+e.LinkTarget)
	case e.Mode.IsDir():
		s = append(s, "dir")
	default:
		s = append(s, itoa(int(e.Size))+" B")
	}
	if e.Opaque {
		s = append(s, "opaque")
	}
	return " (" + strings.Join(s, ", ") + ")"
}

func TestAnalyzeKnownImage(t *testing.T) {
	a, err := FromImage(knownImage(t))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, report(a))
	// Wasted: the 5000-byte cache, the overwritten 100-byte conf and
	// opt/old hidden by the opaque dir. bin/tool is deleted, but its bytes
	// are still in the image through the hard link bin/tool-hard.
	if a.Wasted != 5000+100+300 {
		t.Errorf("Wasted = %d", a.Wasted)
	}
}

func TestBothSourcesAgree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the store unpacks whiteouts as device nodes: needs root")
	}
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	img := knownImage(t)
	if _, err := s.Put(context.Background(), img, store.PutOptions{Names: []string{"known"}}); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Image("known")
	fromDisk, err := FromUnpacked(stored, s.LayerPath)
	if err != nil {
		t.Fatal(err)
	}
	fromTar, _ := FromImage(img)
	var disk, tarred strings.Builder
	fromDisk.WriteReport(&disk, 10)
	fromTar.WriteReport(&tarred, 10)
	if disk.String() != tarred.String() {
		t.Errorf("unpacked layers and tars disagree:\n--- unpacked\n%s\n--- tar\n%s", disk.String(), tarred.String())
	}
}

func TestMergedFindFilter(t *testing.T) {
	a, _ := FromImage(knownImage(t))
	var b strings.Builder
	for _, m := range a.Merged(1) {
		b.WriteString(m.Change.String() + " /" + m.Path + " from layer " + itoa(m.Layer) + "\n")
	}
	golden(t, b.String())
	hist := a.Find("/bin/tool")
	if len(hist) != 2 || hist[0].Change != Added || hist[1].Change != Removed || hist[1].Layer != 1 {
		t.Errorf("Find(/bin/tool) = %+v", hist)
	}
	if h := a.Find("var/cache/apt/pkgcache.bin"); len(h) != 2 || h[1].Change != Removed {
		t.Errorf("Find below a removed directory = %+v", h)
	}
	if got := a.Layers[0].Filter(1000, Added); len(got) != 2 || got[0].Path != "bin/tool" {
		t.Errorf("Filter(>=1000, added) = %+v", got)
	}
	if got := a.Layers[1].Filter(0, Removed); len(got) != 2 {
		t.Errorf("Filter(removed) = %+v", got)
	}
}

func TestBadLayers(t *testing.T) {
	if _, err := EntriesFromTar(bytes.NewReader(layerTar(t, reg("../../etc/passwd", 1)))); !errors.Is(err, engine.ErrUnsafeLayer) {
		t.Errorf("dotdot: %v", err)
	}
	if _, err := EntriesFromTar(bytes.NewReader(layerTar(t, file{name: "x", kind: tar.TypeLink, link: "../../etc/shadow"}))); !errors.Is(err, engine.ErrUnsafeLayer) {
		t.Errorf("hard link out: %v", err)
	}
	full := layerTar(t, reg("a", 4000), reg("b", 10))
	if _, err := EntriesFromTar(bytes.NewReader(full[:len(full)/2])); err == nil || !strings.Contains(err.Error(), "truncated or corrupt") {
		t.Errorf("truncated: %v", err)
	}
	// Symlink loops on disk are listed, never followed.
	d := t.TempDir()
	os.Symlink("loop2", filepath.Join(d, "loop1"))
	os.Symlink("loop1", filepath.Join(d, "loop2"))
	entries, err := EntriesFromDir(d)
	if err != nil || len(entries) != 2 {
		t.Errorf("symlink loop: %v %+v", err, entries)
	}
}

func itoa(n int) string { return fmtInt(n) }

// reAddImage deletes a whole directory and re-creates part of it, nests an
// opaque directory inside another, and replaces a symlink by a file.
func reAddImage(t *testing.T) []LayerInput {
	t.Helper()
	tars := [][]byte{
		layerTar(t, dir("srv/"), dir("srv/site/"), reg("srv/site/index.html", 700), reg("srv/site/old.css", 300),
			dir("data/"), dir("data/db/"), reg("data/db/a", 50), dir("data/db/sub/"), reg("data/db/sub/b", 60),
			file{name: "current", kind: tar.TypeSymlink, link: "srv/site"}),
		layerTar(t, reg(".wh.srv", 0), dir("srv/"), dir("srv/site/"), reg("srv/site/index.html", 710),
			dir("data/"), dir("data/db/"), dir("data/db/sub/"), reg("data/db/sub/.wh..wh..opq", 0), reg("data/db/sub/c", 5),
			reg("current", 3)),
	}
	var inputs []LayerInput
	for i, data := range tars {
		entries, err := EntriesFromTar(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, LayerInput{CreatedBy: []string{"COPY site /srv/site", "RUN rm -rf /srv && build"}[i], Entries: entries})
	}
	return inputs
}

func TestAnalyzeDeleteAndReAdd(t *testing.T) {
	inputs := reAddImage(t)
	// The archive's order must not matter: deletions apply first.
	reversed := append([]Entry(nil), inputs[1].Entries...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	var r1, r2 strings.Builder
	Analyze(inputs).WriteReport(&r1, 10)
	Analyze([]LayerInput{inputs[0], {CreatedBy: inputs[1].CreatedBy, Entries: reversed}}).WriteReport(&r2, 10)
	if r1.String() != r2.String() {
		t.Errorf("entry order changed the result:\n%s\n--- reversed\n%s", r1.String(), r2.String())
	}
	a := Analyze(inputs)
	var b strings.Builder
	b.WriteString(report(a))
	b.WriteString("\nmerged at layer 1:\n")
	for _, m := range a.Merged(1) {
		b.WriteString("  " + m.Change.String() + " /" + m.Path + describe(m.Entry) + " from layer " + itoa(m.Layer) + "\n")
	}
	golden(t, b.String())
	// The re-created index.html is Added (its directory was deleted first),
	// the symlink became a file (Modified), data/db/a survives the opaque
	// directory below it, data/db/sub/b does not.
	if h := a.Find("srv/site/index.html"); len(h) != 3 || h[1].Change != Removed || h[2].Change != Added {
		t.Errorf("index.html history = %+v", h)
	}
	if h := a.Find("current"); len(h) != 2 || h[1].Change != Modified || h[1].Entry.LinkTarget != "" {
		t.Errorf("current history = %+v", h)
	}
	merged := map[string]bool{}
	for _, m := range a.Merged(1) {
		if m.Change != Removed {
			merged[m.Path] = true
		}
	}
	if !merged["data/db/a"] || merged["data/db/sub/b"] || merged["srv/site/old.css"] {
		t.Errorf("merged tree at layer 1 = %v", merged)
	}
}

func TestEntryCapStopsHugeLayers(t *testing.T) {
	old := MaxEntries
	MaxEntries = 100
	defer func() { MaxEntries = old }()
	var files []file
	for i := 0; i < 150; i++ {
		files = append(files, reg("f"+itoa(i), 0))
	}
	if _, err := EntriesFromTar(bytes.NewReader(layerTar(t, files...))); !errors.Is(err, engine.ErrInvalidArgument) || !strings.Contains(err.Error(), "more than 100 entries") {
		t.Errorf("a layer over the cap: %v", err)
	}
}
