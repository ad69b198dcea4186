package store

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func openStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomImage(t testing.TB, layers int) v1.Image {
	t.Helper()
	img, err := random.Image(64<<10, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustPut(t testing.TB, s *Store, img v1.Image, names ...string) string {
	t.Helper()
	id, err := s.Put(context.Background(), img, PutOptions{Names: names})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return id
}

func TestPutInspectListBusybox(t *testing.T) {
	s := openStore(t)
	img := enginetest.Busybox(t)
	var mu sync.Mutex
	statuses := map[engine.ProgressStatus]int{}
	id, err := s.Put(context.Background(), img, PutOptions{Names: []string{"busybox"}, Progress: func(p engine.Progress) {
		mu.Lock()
		statuses[p.Status]++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfgName, _ := img.ConfigName()
	if id != cfgName.String() {
		t.Errorf("ID = %s, want config digest %s", id, cfgName)
	}
	if statuses[engine.ProgressPullComplete] != 1 || statuses[engine.ProgressDownloaded] != 1 {
		t.Errorf("progress statuses = %v, want one Download complete and one Pull complete", statuses)
	}
	d, err := s.Inspect(context.Background(), "busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.RepoTags) != 1 || d.RepoTags[0] != "busybox:latest" {
		t.Errorf("RepoTags = %v", d.RepoTags)
	}
	if d.Size < 500<<10 {
		t.Errorf("Size = %d, want the unpacked busybox (> 500 KiB)", d.Size)
	}
	if len(d.Config.Cmd) != 1 || d.Config.Cmd[0] != "sh" {
		t.Errorf("Cmd = %v", d.Config.Cmd)
	}
	// The layer is unpacked and runnable: busybox is there, applets link to it.
	layerDir := s.LayerPath(d.Layers[0])
	if fi, err := os.Stat(filepath.Join(layerDir, "bin/busybox")); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("bin/busybox in layer: %v %v", fi, err)
	}
	if target, err := os.Readlink(filepath.Join(layerDir, "bin/sh")); err != nil || target != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, %v", target, err)
	}
	if fi, _ := os.Stat(filepath.Join(layerDir, "tmp")); fi == nil || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("tmp lost its sticky bit: %v", fi)
	}
	if out, err := exec.Command("chroot", layerDir, "/bin/sh", "-c", "echo hi").Output(); os.Geteuid() == 0 && (err != nil || string(out) != "hi\n") {
		t.Errorf("chroot sh in unpacked layer: %q %v", out, err)
	}
	// Found by ID, short ID and the familiar and canonical names.
	for _, n := range []string{id, id[7:19], "busybox", "docker.io/library/busybox:latest"} {
		if got, err := s.Inspect(context.Background(), n); err != nil || got.ID != id {
			t.Errorf("Inspect(%q) = %v, %v", n, got.ID, err)
		}
	}
	list, err := s.List(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("List = %+v, %v", list, err)
	}
	h, err := s.History(context.Background(), "busybox")
	if err != nil || len(h) != 2 || h[0].ID != id || !h[0].EmptyLayer || h[1].Size != d.Size || h[1].ID != "<missing>" {
		t.Errorf("History = %+v, %v", h, err)
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := mustPut(t, s, randomImage(t, 2), "app:v1")
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open of a locked root: %v, want ErrLocked", err)
	}
	s.Close()
	// A crash leaves files in tmp/; Open clears them.
	leftover := filepath.Join(dir, "tmp", "blob-123")
	os.WriteFile(leftover, []byte("half a layer"), 0o600)
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover survived Open: %v", err)
	}
	if d, err := s.Inspect(context.Background(), "app:v1"); err != nil || d.ID != id {
		t.Errorf("after reopen: %v %v", d.ID, err)
	}
	// index.json names the image, so OCI tools can read the store.
	index, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Contains(index, []byte(`"org.opencontainers.image.ref.name": "docker.io/library/app:v1"`)) {
		t.Errorf("index.json does not name the image:\n%s", index)
	}
}

func TestTagMovesNameAndRemoveFollowsDocker(t *testing.T) {
	ctx := context.Background()
	var events []string
	var mu sync.Mutex
	s := openStore(t, WithEvents(func(e engine.Event) {
		mu.Lock()
		events = append(events, e.Action+" "+e.Attributes["name"])
		mu.Unlock()
	}))
	first := mustPut(t, s, randomImage(t, 1), "app:latest")
	second := mustPut(t, s, randomImage(t, 1), "app:latest")
	// The name moved; the first image is dangling now.
	d, _ := s.Inspect(ctx, first)
	if len(d.RepoTags) != 0 {
		t.Errorf("first image still tagged %v", d.RepoTags)
	}
	if err := s.Tag(ctx, "app", "localhost:5000/app:v2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "app", "localhost:5000/app:v2"); err != nil {
		t.Fatalf("Tag is not idempotent: %v", err)
	}
	if err := s.Tag(ctx, "nope", "x"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Tag of missing image: %v", err)
	}
	if err := s.Tag(ctx, "app", "Bad Name"); !errors.Is(err, engine.ErrInvalidReference) {
		t.Errorf("Tag to bad name: %v", err)
	}
	// By ID while two repositories name it: refused without force.
	if _, err := s.Remove(ctx, second, false); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("Remove by ID with two repos: %v, want ErrConflict", err)
	}
	// By name: only untagged while another name is left.
	res, err := s.Remove(ctx, "app:latest", false)
	if err != nil || len(res) != 1 || res[0].Untagged != "app:latest" {
		t.Fatalf("Remove app:latest = %+v, %v", res, err)
	}
	res, err = s.Remove(ctx, "localhost:5000/app:v2", false)
	if err != nil || len(res) != 2 || res[1].Deleted != second {
		t.Fatalf("Remove last name = %+v, %v", res, err)
	}
	if _, err := s.Inspect(ctx, second); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("deleted image still there: %v", err)
	}
	// Prune takes the dangling first image and leaves no blob behind.
	rep, err := s.Prune(ctx, false)
	if err != nil || len(rep.Deleted) != 1 || rep.Deleted[0].Deleted != first || rep.SpaceReclaimed == 0 {
		t.Fatalf("Prune = %+v, %v", rep, err)
	}
	for _, sub := range []string{"blobs/sha256", "layers/sha256"} {
		if entries, _ := os.ReadDir(filepath.Join(s.Root(), sub)); len(entries) != 0 {
			t.Errorf("%s not empty after prune: %d entries", sub, len(entries))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"tag app:latest", "untag app:latest", "tag app:latest", "tag localhost:5000/app:v2", "untag app:latest", "untag localhost:5000/app:v2", "delete ", "delete ", "prune "}
	if len(events) != len(want) {
		t.Fatalf("events = %q, want %q", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Errorf("event %d = %q, want %q", i, events[i], want[i])
		}
	}
}

func TestPruneKeepsImagesPulledByDigest(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	img := randomImage(t, 1)
	digest, _ := img.Digest()
	id, err := s.Put(ctx, img, PutOptions{RepoDigest: "localhost:5000/app@" + digest.String()})
	if err != nil {
		t.Fatal(err)
	}
	dangling := mustPut(t, s, randomImage(t, 1))
	rep, err := s.Prune(ctx, false)
	if err != nil || len(rep.Deleted) != 1 || rep.Deleted[0].Deleted != dangling {
		t.Fatalf("Prune = %+v, %v; want only the dangling image", rep, err)
	}
	if _, err := s.Inspect(ctx, "localhost:5000/app@"+digest.String()); err != nil {
		t.Errorf("image pulled by digest was pruned: %v", err)
	}
	rep, err = s.Prune(ctx, true)
	if err != nil || len(rep.Deleted) != 2 || rep.Deleted[1].Deleted != id {
		t.Errorf("Prune(all) = %+v, %v", rep, err)
	}
}

func TestRemoveRefusesImageInUse(t *testing.T) {
	ctx := context.Background()
	var inUse string
	s := openStore(t, WithUsage(func(id string) int {
		if id == inUse {
			return 1
		}
		return 0
	}))
	inUse = mustPut(t, s, randomImage(t, 1), "web")
	if _, err := s.Remove(ctx, "web", false); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("Remove image in use: %v, want ErrConflict", err)
	}
	if rep, err := s.Prune(ctx, true); err != nil || len(rep.Deleted) != 0 {
		t.Fatalf("Prune -a removed an image in use: %+v %v", rep, err)
	}
	if _, err := s.Remove(ctx, "web", true); err != nil {
		t.Fatalf("forced Remove: %v", err)
	}
}

// lyingLayer announces one digest and delivers other bytes.
type lyingLayer struct{ v1.Layer }

func (l lyingLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	data, _ := io.ReadAll(rc)
	data[len(data)/2] ^= 0xff
	return io.NopCloser(bytes.NewReader(data)), nil
}

type lyingImage struct{ v1.Image }

func (i lyingImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	for n := range ls {
		ls[n] = lyingLayer{ls[n]}
	}
	return ls, err
}

func TestPutRejectsDigestMismatchAndKeepsNothing(t *testing.T) {
	s := openStore(t)
	_, err := s.Put(context.Background(), lyingImage{randomImage(t, 2)}, PutOptions{Names: []string{"liar"}})
	if !errors.Is(err, engine.ErrDigestMismatch) {
		t.Fatalf("Put of corrupted layer: %v, want ErrDigestMismatch", err)
	}
	assertEmptyStore(t, s)
}

func assertEmptyStore(t *testing.T, s *Store) {
	t.Helper()
	if list, _ := s.List(context.Background()); len(list) != 0 {
		t.Errorf("store lists %d images after a failed write", len(list))
	}
	for _, sub := range []string{"blobs/sha256", "layers/sha256", "tmp"} {
		entries, _ := os.ReadDir(filepath.Join(s.Root(), sub))
		for _, e := range entries {
			t.Errorf("%s/%s left behind", sub, e.Name())
		}
	}
}

func TestPutRefusesLayersThatEscape(t *testing.T) {
	outside := t.TempDir()
	tests := map[string]func(tw *tar.Writer){
		"dotdot": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "../../escaped", Typeflag: tar.TypeReg, Mode: 0o644})
		},
		"through symlink": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: outside})
			tw.WriteHeader(&tar.Header{Name: "evil/escaped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
			tw.Write([]byte("pwn"))
		},
		"hard link out": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "passwd", Typeflag: tar.TypeLink, Linkname: "../../../etc/passwd"})
		},
	}
	for name, entries := range tests {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			_, err := s.Put(context.Background(), enginetest.LayerImage(t, entries), PutOptions{Names: []string{"evil"}})
			if !errors.Is(err, engine.ErrUnsafeLayer) {
				t.Fatalf("Put: %v, want ErrUnsafeLayer", err)
			}
			if _, err := os.Stat(filepath.Join(outside, "escaped")); err == nil {
				t.Fatal("a file was written outside the layer")
			}
			assertEmptyStore(t, s)
		})
	}
}

func TestConcurrentPutsOfOneImage(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 3)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = s.Put(context.Background(), img, PutOptions{Names: []string{"same"}})
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("put %d: %s %v", i, ids[i], errs[i])
		}
	}
	if list, _ := s.List(context.Background()); len(list) != 1 {
		t.Errorf("List = %d images, want 1", len(list))
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	id := mustPut(t, src, enginetest.Busybox(t), "busybox:latest")
	if err := src.Tag(ctx, "busybox", "localhost:5000/bb:v1"); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := src.Save(ctx, []string{"busybox:latest", "localhost:5000/bb:v1"}, &archive); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	loaded, err := dst.Load(ctx, &archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 2 {
		t.Errorf("loaded = %v", loaded)
	}
	d, err := dst.Inspect(ctx, "localhost:5000/bb:v1")
	if err != nil || d.ID != id || len(d.RepoTags) != 2 {
		t.Fatalf("after load: %+v %v", d, err)
	}
	if _, err := dst.Load(ctx, bytes.NewReader([]byte("not a tarball")), nil); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("Load of garbage: %v", err)
	}
}
