package layers

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FromArchiveStream analyses a `docker save` archive as it streams in (from
// an engine's GET /images/{name}/get), writing nothing to disk. An archive
// names its config and layers only in manifest.json, which usually comes
// last, so every layer-looking entry (a tar, gzip or zstd stream) is listed
// as it passes and JSON entries are kept; the image is assembled at the end.
func FromArchiveStream(r io.Reader, imageName string) (*Analysis, error) {
	type layerData struct {
		entries          []Entry
		compressed, size int64
	}
	layersByPath := map[string]layerData{}
	jsonByPath := map[string][]byte{}
	alias := map[string]string{}
	tr := tar.NewReader(r)
	br := bufio.NewReaderSize(tr, 1<<20)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read image archive (truncated or corrupt?): %w: %w", engine.ErrInvalidArgument, err)
		}
		name := path.Clean(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			alias[name] = path.Clean(path.Join(path.Dir(name), hdr.Linkname))
			continue
		case tar.TypeLink:
			alias[name] = path.Clean(hdr.Linkname)
			continue
		case tar.TypeReg, tar.TypeRegA:
		default:
			continue
		}
		br.Reset(tr)
		head, _ := br.Peek(512)
		switch {
		case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")) || bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("[")):
			if hdr.Size > 64<<20 {
				continue // no config or manifest is that large
			}
			data, err := io.ReadAll(br)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			jsonByPath[name] = data
		case isLayer(head):
			plain, err := iox.Decompress(br)
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", name, err)
			}
			c := iox.NewCountingReader(plain)
			entries, err := EntriesFromTar(c)
			plain.Close()
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", name, err)
			}
			io.Copy(io.Discard, c) // the padding the tar reader leaves
			layersByPath[name] = layerData{entries: entries, compressed: hdr.Size, size: c.Count()}
		}
	}
	resolve := func(p string) string {
		p = path.Clean(p)
		for i := 0; i < 8; i++ {
			if a, ok := alias[p]; ok {
				p = a
			}
		}
		return p
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(jsonByPath["manifest.json"], &manifest); err != nil || len(manifest) == 0 {
		return nil, fmt.Errorf("not an image archive (no manifest.json): %w", engine.ErrInvalidArgument)
	}
	pick := 0
	if len(manifest) > 1 {
		pick = -1
		for i, m := range manifest {
			for _, t := range m.RepoTags {
				if t == imageName || t == imageName+":latest" {
					pick = i
				}
			}
		}
		if pick < 0 {
			return nil, fmt.Errorf("the archive holds %d images, none named %q: %w", len(manifest), imageName, engine.ErrNotFound)
		}
	}
	m := manifest[pick]
	cfg, err := v1.ParseConfigFile(bytes.NewReader(jsonByPath[resolve(m.Config)]))
	if err != nil {
		return nil, fmt.Errorf("image config %s: %w", m.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%d layers but the config lists %d: %w", len(m.Layers), len(cfg.RootFS.DiffIDs), engine.ErrInvalidArgument)
	}
	inputs := make([]LayerInput, len(m.Layers))
	for i, p := range m.Layers {
		l, ok := layersByPath[resolve(p)]
		if !ok {
			return nil, fmt.Errorf("layer %s is missing from the archive: %w", p, engine.ErrInvalidArgument)
		}
		inputs[i] = LayerInput{DiffID: cfg.RootFS.DiffIDs[i].String(), Digest: digestOf(p), CompressedSize: l.compressed, UncompressedSize: l.size, Entries: l.entries}
	}
	attachHistory(cfg, inputs)
	return Analyze(inputs), nil
}

// isLayer recognises a layer by its first bytes: compressed, or a tar
// header ("ustar" at offset 257).
func isLayer(head []byte) bool {
	return iox.Detect(head) != iox.None || len(head) >= 262 && string(head[257:262]) == "ustar"
}
