package layers

import (
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Change is what a layer did to a path.
type Change int

const (
	Unchanged Change = iota // only in merged trees: visible, from a lower layer
	Added
	Modified
	Removed
)

func (c Change) String() string {
	return [...]string{"unchanged", "added", "modified", "removed"}[c]
}

// Entry is one path in a layer as stored: a file, directory, link, device,
// or a whiteout (Whiteout) / opaque marker (Opaque on a directory).
type Entry struct {
	Path       string // clean, relative to the root, no leading slash
	Mode       fs.FileMode
	UID, GID   int
	Size       int64
	LinkTarget string // symlink target, or hard link target path
	HardLink   bool
	Whiteout   bool // the path is deleted by this layer
	Opaque     bool // a directory hiding everything lower layers had below it
}

// LayerInput is one layer to analyse, base first.
type LayerInput struct {
	Digest, DiffID   string
	CompressedSize   int64
	UncompressedSize int64
	CreatedBy        string   // the step that made this layer
	EmptySteps       []string // metadata-only steps attached to it (ENV, CMD…)
	Entries          []Entry
}

// ChangedEntry is an entry of a layer with what it did.
type ChangedEntry struct {
	Entry
	Change Change
}

// Layer is one analysed layer.
type Layer struct {
	Index            int
	Digest, DiffID   string
	CompressedSize   int64
	UncompressedSize int64
	CreatedBy        string
	EmptySteps       []string
	// Changes are this layer's own entries, sorted by path.
	Changes                  []ChangedEntry
	Added, Modified, Removed int
	// AddedBytes counts regular-file bytes this layer wrote.
	AddedBytes int64
}

// WastedPath is a path whose bytes are (partly) not visible in the image.
type WastedPath struct {
	Path   string
	Bytes  int64
	Layers []int // layers the path was written or removed in
}

// Analysis is the whole result; it holds no UI state.
type Analysis struct {
	Layers      []Layer
	TotalBytes  int64 // regular-file bytes summed over all layers
	FinalBytes  int64 // regular-file bytes visible in the final image
	Wasted      int64
	Efficiency  float64
	WastedPaths []WastedPath // largest first
	// final maps each visible path to its entry and the layer it comes from.
	final   map[string]visible
	history []map[string]visible // visible set after each layer (built lazily)
	inputs  []LayerInput
}

type visible struct {
	entry Entry
	layer int
}

// Analyze runs the algorithm in the package doc.
func Analyze(inputs []LayerInput) *Analysis {
	a := &Analysis{inputs: inputs}
	vis := map[string]visible{}
	type acc struct {
		bytes  int64
		layers []int
	}
	perPath := map[string]*acc{}
	touch := func(p string, size int64, layer int) {
		x := perPath[p]
		if x == nil {
			x = &acc{}
			perPath[p] = x
		}
		x.bytes += size
		if len(x.layers) == 0 || x.layers[len(x.layers)-1] != layer {
			x.layers = append(x.layers, layer)
		}
	}
	for i, in := range inputs {
		l := Layer{Index: i, Digest: in.Digest, DiffID: in.DiffID, CompressedSize: in.CompressedSize,
			UncompressedSize: in.UncompressedSize, CreatedBy: in.CreatedBy, EmptySteps: in.EmptySteps}
		entries := append([]Entry(nil), in.Entries...)
		sort.SliceStable(entries, func(x, y int) bool { return entries[x].Path < entries[y].Path })
		// A layer's deletions apply to the layers below it only (OCI image
		// spec), so they all go first: a directory deleted and re-created
		// in one layer ends up re-created, whatever the archive's order.
		for _, e := range entries {
			switch {
			case e.Whiteout:
				if removeTree(vis, e.Path, func(p string, v visible) {
					if v.entry.Mode.IsRegular() {
						touch(p, 0, i)
					}
				}) {
					l.Changes = append(l.Changes, ChangedEntry{Entry: e, Change: Removed})
					l.Removed++
				}
			case e.Opaque:
				removeTree(vis, e.Path+"/", func(p string, v visible) {
					if v.entry.Mode.IsRegular() {
						touch(p, 0, i)
					}
				})
			}
		}
		for _, e := range entries {
			if e.Whiteout {
				continue
			}
			change := Added
			if _, ok := vis[e.Path]; ok {
				change = Modified
			}
			if change == Modified && e.Mode.IsDir() {
				if prev := vis[e.Path].entry; prev.Mode == e.Mode && prev.UID == e.UID && prev.GID == e.GID && !e.Opaque {
					// A directory listed again only because something
					// below it changed: not a change of its own.
					vis[e.Path] = visible{e, vis[e.Path].layer}
					continue
				}
			}
			vis[e.Path] = visible{e, i}
			l.Changes = append(l.Changes, ChangedEntry{Entry: e, Change: change})
			if change == Added {
				l.Added++
			} else {
				l.Modified++
			}
			if e.Mode.IsRegular() && !e.HardLink {
				l.AddedBytes += e.Size
				a.TotalBytes += e.Size
				touch(e.Path, e.Size, i)
			}
		}
		sort.SliceStable(l.Changes, func(x, y int) bool { return l.Changes[x].Path < l.Changes[y].Path })
		a.Layers = append(a.Layers, l)
	}
	a.final = vis
	for p, v := range vis {
		if v.entry.Mode.IsRegular() && !v.entry.HardLink {
			a.FinalBytes += v.entry.Size
			perPath[p].bytes -= v.entry.Size // what is visible is not waste
		}
	}
	// A file removed by a later layer whose data a visible hard link
	// still reaches is not waste: the bytes are in the image, by another name.
	for _, v := range vis {
		if !v.entry.HardLink {
			continue
		}
		if _, stillVisible := vis[v.entry.LinkTarget]; stillVisible {
			continue
		}
		if x := perPath[v.entry.LinkTarget]; x != nil && x.bytes > 0 {
			size := targetSize(inputs[v.layer].Entries, v.entry.LinkTarget)
			x.bytes -= min(size, x.bytes)
			a.FinalBytes += size
		}
	}
	for p, x := range perPath {
		if x.bytes > 0 {
			a.Wasted += x.bytes
			a.WastedPaths = append(a.WastedPaths, WastedPath{Path: p, Bytes: x.bytes, Layers: x.layers})
		}
	}
	sort.Slice(a.WastedPaths, func(i, j int) bool {
		if a.WastedPaths[i].Bytes != a.WastedPaths[j].Bytes {
			return a.WastedPaths[i].Bytes > a.WastedPaths[j].Bytes
		}
		return a.WastedPaths[i].Path < a.WastedPaths[j].Path
	})
	a.Efficiency = 1
	if a.TotalBytes > 0 {
		a.Efficiency = 1 - float64(a.Wasted)/float64(a.TotalBytes)
	}
	return a
}

// removeTree deletes p (and, when p ends in "/", only what is below it)
// from vis, calling fn for each visible path removed. It reports whether
// anything was visible.
func removeTree(vis map[string]visible, p string, fn func(string, visible)) bool {
	// Only a directory has anything below it: a file goes without a scan.
	if v, ok := vis[p]; ok && !strings.HasSuffix(p, "/") && !v.entry.Mode.IsDir() {
		fn(p, v)
		delete(vis, p)
		return true
	}
	found := false
	prefix := strings.TrimSuffix(p, "/") + "/"
	for q, v := range vis {
		if (q == p && !strings.HasSuffix(p, "/")) || strings.HasPrefix(q, prefix) {
			fn(q, v)
			delete(vis, q)
			found = true
		}
	}
	return found
}

// MergedEntry is a path as seen from some layer, with where it comes from.
type MergedEntry struct {
	Entry
	Layer  int    // the layer its visible version comes from
	Change Change // what the chosen layer did to it (Unchanged when lower)
}

// Merged returns the file tree as seen from layer upTo (the image's own
// filesystem for the last layer), sorted by path; paths the chosen layer
// removed are included with Change Removed so a view can show them.
func (a *Analysis) Merged(upTo int) []MergedEntry {
	if upTo < 0 || upTo >= len(a.Layers) {
		return nil
	}
	sub := Analyze(a.inputs[:upTo+1])
	var out []MergedEntry
	changed := map[string]Change{}
	for _, c := range sub.Layers[upTo].Changes {
		changed[c.Path] = c.Change
	}
	for p, v := range sub.final {
		ch := Unchanged
		if v.layer == upTo {
			ch = changed[p]
		}
		out = append(out, MergedEntry{Entry: v.entry, Layer: v.layer, Change: ch})
	}
	for _, c := range sub.Layers[upTo].Changes {
		if c.Change == Removed {
			out = append(out, MergedEntry{Entry: c.Entry, Layer: upTo, Change: Removed})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// PathHistory is what each layer did to one path.
type PathHistory struct {
	Layer  int
	Change Change
	Entry  Entry
}

// Find reports every layer that added, changed or removed path (a clean
// relative path; a leading "/" is ignored), base first.
func (a *Analysis) Find(p string) []PathHistory {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	var out []PathHistory
	for _, l := range a.Layers {
		for _, c := range l.Changes {
			if c.Path == p || (c.Change == Removed && strings.HasPrefix(p, c.Path+"/")) {
				out = append(out, PathHistory{Layer: l.Index, Change: c.Change, Entry: c.Entry})
			}
		}
	}
	return out
}

// Filter returns a layer's changes of the given kinds (all when none are
// given) whose regular files are at least minSize bytes; other kinds of
// entries pass the size test only when minSize is 0.
func (l Layer) Filter(minSize int64, kinds ...Change) []ChangedEntry {
	var out []ChangedEntry
	for _, c := range l.Changes {
		if len(kinds) > 0 && !hasKind(kinds, c.Change) {
			continue
		}
		if minSize > 0 && (!c.Mode.IsRegular() || c.Size < minSize) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func hasKind(kinds []Change, c Change) bool {
	for _, k := range kinds {
		if k == c {
			return true
		}
	}
	return false
}

func targetSize(entries []Entry, p string) int64 {
	for _, e := range entries {
		if e.Path == p && e.Mode.IsRegular() && !e.HardLink {
			return e.Size
		}
	}
	return 0
}
