package app

import (
	"context"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine/dockerfile"
	"github.com/berth-dev/berth/engine/human"
	"github.com/berth-dev/berth/engine/layers"
)

// LayerSummary is one row of the Layers panel's list.
type LayerSummary struct {
	Index  int
	Step   string   // the instruction that made the layer
	Empty  []string // metadata-only steps after it
	Size   int64    // its files' bytes, as docker images and history weigh it
	Digest string
	DiffID string
}

// FileRow is one path in a layer's file tree.
type FileRow struct {
	Path   string // "etc/passwd", no leading slash
	Size   int64
	Dir    bool
	Change string // "added", "modified", "removed", "unchanged"
	Link   string // symlink or hard link target
}

// LayersModel is an image's layer analysis for the Layers panel.
type LayersModel struct {
	Image       string
	Layers      []LayerSummary
	Efficiency  float64
	Wasted      int64
	WastedPaths []string // "12 MB var/cache/apt/... (layers 1, 3)"
	Tips        []string
	a           *layers.Analysis
}

// LoadLayers analyses image through the engine's export.
func LoadLayers(ctx context.Context, engine Saver, image string) (*LayersModel, error) {
	a, err := ImageLayers(ctx, engine, image)
	if err != nil {
		return nil, err
	}
	m := &LayersModel{Image: image, Efficiency: a.Efficiency, Wasted: a.Wasted, a: a}
	for _, l := range a.Layers {
		m.Layers = append(m.Layers, LayerSummary{Index: l.Index, Step: l.CreatedBy, Empty: l.EmptySteps, Size: l.AddedBytes, Digest: l.Digest, DiffID: l.DiffID})
	}
	for i, w := range a.WastedPaths {
		if i == 20 {
			break
		}
		m.WastedPaths = append(m.WastedPaths, formatWasted(w))
	}
	for _, t := range a.Tips() {
		m.Tips = append(m.Tips, t.Message)
	}
	return m, nil
}

func formatWasted(w layers.WastedPath) string {
	var idx []string
	for _, l := range w.Layers {
		idx = append(idx, itoa(l))
	}
	return human.Size(w.Bytes) + "  " + w.Path + "  (layers " + strings.Join(idx, ", ") + ")"
}

// Files lists a layer's own changes, or (merged) the whole filesystem as
// seen from that layer; query keeps paths containing it.
func (m *LayersModel) Files(layer int, merged bool, query string) []FileRow {
	var out []FileRow
	q := strings.ToLower(strings.TrimPrefix(query, "/"))
	keep := func(p string) bool { return q == "" || strings.Contains(strings.ToLower(p), q) }
	if merged {
		for _, e := range m.a.Merged(layer) {
			if keep(e.Path) {
				out = append(out, FileRow{Path: e.Path, Size: e.Size, Dir: e.Mode.IsDir(), Change: e.Change.String(), Link: e.LinkTarget})
			}
		}
		return out
	}
	if layer < 0 || layer >= len(m.a.Layers) {
		return nil
	}
	for _, c := range m.a.Layers[layer].Changes {
		if keep(c.Path) {
			out = append(out, FileRow{Path: c.Path, Size: c.Size, Dir: c.Mode.IsDir(), Change: c.Change.String(), Link: c.LinkTarget})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Tree arranges rows as a tree: parent path ("" for the root) to children,
// adding the directories a row's path implies.
func Tree(rows []FileRow) (children map[string][]string, byPath map[string]FileRow) {
	children, byPath = map[string][]string{}, map[string]FileRow{}
	var add func(p string)
	add = func(p string) {
		if _, ok := byPath[p]; ok || p == "" || p == "." {
			return
		}
		byPath[p] = FileRow{Path: p, Dir: true, Change: "unchanged"}
		parent := path.Dir(p)
		if parent == "." {
			parent = ""
		}
		add(parent)
		children[parent] = append(children[parent], p)
	}
	for _, r := range rows {
		parent := path.Dir(r.Path)
		if parent == "." {
			parent = ""
		}
		add(parent)
		if _, ok := byPath[r.Path]; !ok {
			children[parent] = append(children[parent], r.Path)
		}
		byPath[r.Path] = r
	}
	for k := range children {
		sort.Strings(children[k])
	}
	return children, byPath
}

func itoa(n int) string { return strconv.Itoa(n) }

// ReadableStep is a history's created-by as a Dockerfile line reads: no
// "# buildkit" mark, no "/bin/sh -c #(nop)" of the classic builder's
// metadata steps, RUN without the shell it ran in.
func ReadableStep(createdBy string) string {
	s := strings.TrimSuffix(strings.TrimSpace(createdBy), " # buildkit")
	if rest, ok := strings.CutPrefix(s, "RUN |"); ok { // "RUN |2 A=1 B=2 cmd": the build arguments it saw
		f := strings.Fields(rest)
		if n, err := strconv.Atoi(f[0]); err == nil && n < len(f) {
			s = "RUN " + strings.Join(f[n+1:], " ")
		}
	}
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c #(nop) "); ok {
		return strings.TrimSpace(rest)
	}
	if rest, ok := strings.CutPrefix(s, "RUN /bin/sh -c "); ok {
		return "RUN " + rest
	}
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		return "RUN " + rest
	}
	return s
}

// LineMatcher finds the line of the Dockerfile src whose instruction made
// a layer, by what the image's history recorded (createdBy, as BuildKit and
// Berth write it: "RUN /bin/sh -c make # buildkit", "COPY . /app #
// buildkit"). Only an instruction that reads the same and is the only one
// that does is an answer; 0 otherwise (a build argument expanded in the
// history, the classic builder's "#(nop)" form). src is analysed once, for
// every layer asked about.
func LineMatcher(src string) func(createdBy string) int {
	lines := strings.Split(src, "\n")
	byText := map[string]int{} // normalized instruction -> its line, 0 when two read the same
	for _, st := range dockerfile.Analyze([]byte(src)).Steps {
		if st.Line < 1 || st.EndLine > len(lines) {
			continue
		}
		text := normalizeInstruction(strings.Join(lines[st.Line-1:st.EndLine], "\n"))
		if _, twice := byText[text]; twice {
			byText[text] = 0
		} else {
			byText[text] = st.Line
		}
	}
	return func(createdBy string) int {
		if strings.Contains(createdBy, "#(nop)") {
			return 0 // the classic builder's: its COPY names a file's hash, not what the line says
		}
		want := normalizeInstruction(ReadableStep(createdBy))
		if want == "" {
			return 0
		}
		return byText[want]
	}
}

// normalizeInstruction joins continued lines and runs of blanks, and
// upper-cases the keyword.
func normalizeInstruction(s string) string {
	s = strings.ReplaceAll(s, "\\\n", " ")
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	f[0] = strings.ToUpper(f[0])
	return strings.Join(f, " ")
}
