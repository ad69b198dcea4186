package layers

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// syntheticImage has 100,000 files and 1 GB across 5 layers: each layer
// adds 20,000 files of ~10 KiB in 200 directories, overwrites 1,000 files
// of the layer below and deletes 100 of them.
func syntheticImage() []LayerInput {
	const layers, files, dirs = 5, 20_000, 200
	var inputs []LayerInput
	for l := 0; l < layers; l++ {
		var entries []Entry
		for d := 0; d < dirs; d++ {
			entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d", l, d), Mode: fs.ModeDir | 0o755})
		}
		for f := 0; f < files; f++ {
			entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d/f%d", l, f%dirs, f), Mode: 0o644, Size: 10_737})
		}
		if l > 0 {
			for f := 0; f < 1000; f++ {
				entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d/f%d", l-1, f%dirs, f), Mode: 0o644, Size: 5000})
			}
			for f := 1000; f < 1100; f++ {
				entries = append(entries, Entry{Path: fmt.Sprintf("l%d/d%d/f%d", l-1, f%dirs, f), Whiteout: true})
			}
		}
		inputs = append(inputs, LayerInput{CreatedBy: fmt.Sprintf("RUN step %d", l), Entries: entries})
	}
	return inputs
}

func BenchmarkAnalyze100kFiles1GB(b *testing.B) {
	inputs := syntheticImage()
	b.ReportAllocs()
	b.ResetTimer()
	var a *Analysis
	for i := 0; i < b.N; i++ {
		a = Analyze(inputs)
	}
	b.StopTimer()
	if a.TotalBytes < 1<<30 || len(a.Layers) != 5 {
		b.Fatalf("synthetic image is not what it claims: %d bytes", a.TotalBytes)
	}
}

// BenchmarkFromTarball100kFiles1GB reads a `docker save` archive (layers
// uncompressed, as docker writes them) of 5 layers, 100,000 files, 1 GB,
// and analyses it: the whole `berth layers --tar` path. The archive is
// written once into a temporary directory first (not timed).
func BenchmarkFromTarball100kFiles1GB(b *testing.B) {
	dir := b.TempDir()
	archive := filepath.Join(dir, "big.tar")
	img := bigImage(b, dir)
	writeDockerArchive(b, img, archive)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := FromTarball(archive, "")
		if err != nil {
			b.Fatal(err)
		}
		if a.TotalBytes < 1<<30 {
			b.Fatalf("archive holds %d bytes, want 1 GB", a.TotalBytes)
		}
	}
}

// bigImage builds the synthetic image's layers as real tars on disk.
func bigImage(b testing.TB, dir string) v1.Image {
	img := mutate.MediaType(empty.Image, "application/vnd.docker.distribution.manifest.v2+json")
	body := make([]byte, 10_737)
	for l, in := range syntheticImage() {
		path := filepath.Join(dir, fmt.Sprintf("l%d.tar", l))
		f, _ := os.Create(path)
		tw := tar.NewWriter(f)
		for _, e := range in.Entries {
			switch {
			case e.Whiteout:
				tw.WriteHeader(&tar.Header{Name: filepath.Join(filepath.Dir(e.Path), ".wh."+filepath.Base(e.Path)), Typeflag: tar.TypeReg, Mode: 0o644})
			case e.Mode.IsDir():
				tw.WriteHeader(&tar.Header{Name: e.Path + "/", Typeflag: tar.TypeDir, Mode: 0o755})
			default:
				tw.WriteHeader(&tar.Header{Name: e.Path, Typeflag: tar.TypeReg, Mode: 0o644, Size: e.Size})
				tw.Write(body[:e.Size])
			}
		}
		tw.Close()
		f.Close()
		layer, err := tarball.LayerFromFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: in.CreatedBy}}); err != nil {
			b.Fatal(err)
		}
	}
	return img
}

// TestWriteBenchArchive writes the benchmark's 100,000-file, 1 GB archive
// to $BERTH_BENCH_ARCHIVE, to measure `berth layers --tar` (and dive) on it
// as whole programs; without the variable it does nothing.
func TestWriteBenchArchive(t *testing.T) {
	path := os.Getenv("BERTH_BENCH_ARCHIVE")
	if path == "" {
		t.Skip("set BERTH_BENCH_ARCHIVE=/path/big.tar to write the benchmark archive")
	}
	writeDockerArchive(t, bigImage(t, t.TempDir()), path)
}
