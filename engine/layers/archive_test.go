package layers

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeDockerArchive writes img as `docker save` does: uncompressed
// layers as <n>/layer.tar beside manifest.json and the config.
func writeDockerArchive(t testing.TB, img v1.Image, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, size int64, r io.Reader) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
		if _, err := io.Copy(tw, r); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := img.RawConfigFile()
	add("config.json", int64(len(cfg)), strings.NewReader(string(cfg)))
	layers, _ := img.Layers()
	var paths []string
	for i, l := range layers {
		// Spool to learn the size: tar headers come before the bytes.
		tmp, _ := os.CreateTemp(filepath.Dir(path), "layer-")
		rc, _ := l.Uncompressed()
		n, _ := io.Copy(tmp, rc)
		rc.Close()
		tmp.Seek(0, io.SeekStart)
		p := fmt.Sprintf("%d/layer.tar", i)
		add(p, n, tmp)
		tmp.Close()
		os.Remove(tmp.Name())
		paths = append(paths, p)
	}
	m, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"known:latest"}, "Layers": paths}})
	add("manifest.json", int64(len(m)), strings.NewReader(string(m)))
	tw.Close()
}

func TestFromTarballBothKinds(t *testing.T) {
	img := knownImage(t)
	want := report(mustAnalyze(t, img))
	dir := t.TempDir()
	// Uncompressed layers, as docker save writes them.
	writeDockerArchive(t, img, filepath.Join(dir, "docker.tar"))
	// Compressed layers, as Berth's save (go-containerregistry) writes them.
	ref, _ := name.NewTag("known:latest")
	if err := tarball.WriteToFile(filepath.Join(dir, "berth.tar"), ref, img); err != nil {
		t.Fatal(err)
	}
	for _, archive := range []string{"docker.tar", "berth.tar"} {
		a, err := FromTarball(filepath.Join(dir, archive), "")
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if got := report(a); got != want {
			t.Errorf("%s differs from the image's own analysis:\n%s\n--- want\n%s", archive, got, want)
		}
		// The same archive as a stream (an engine's export): same result.
		f, _ := os.Open(filepath.Join(dir, archive))
		a, err = FromArchiveStream(f, "")
		f.Close()
		if err != nil {
			t.Fatalf("%s as a stream: %v", archive, err)
		}
		if got := report(a); got != want {
			t.Errorf("%s as a stream differs:\n%s\n--- want\n%s", archive, got, want)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "docker.tar"))
	if _, err := FromArchiveStream(bytes.NewReader(data[:len(data)/2]), ""); err == nil {
		t.Error("a stream cut in half gave no error")
	}
	if _, err := FromTarball(filepath.Join(dir, "missing.tar"), ""); err == nil {
		t.Error("a missing archive gave no error")
	}
	os.WriteFile(filepath.Join(dir, "junk.tar"), []byte("junk"), 0o644)
	if _, err := FromTarball(filepath.Join(dir, "junk.tar"), ""); err == nil || !strings.Contains(err.Error(), "not an image archive") {
		t.Errorf("junk archive: %v", err)
	}
}

func mustAnalyze(t *testing.T, img v1.Image) *Analysis {
	t.Helper()
	a, err := FromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
