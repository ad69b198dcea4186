package layers

import (
	"archive/tar"
	"bytes"
	"testing"
)

// FuzzEntriesFromTar: any bytes as a layer archive give entries or an
// error, never a panic, and the analysis of what was read never panics.
func FuzzEntriesFromTar(f *testing.F) {
	for _, seed := range [][]file{
		{dir("etc/"), reg("etc/a", 3)},
		{reg("a/.wh.b", 0), dir("c/"), reg("c/.wh..wh..opq", 0)},
		{file{name: "l", kind: tar.TypeSymlink, link: "/etc"}, file{name: "h", kind: tar.TypeLink, link: "l"}},
	} {
		t := &testing.T{}
		f.Add(layerTar(t, seed...))
	}
	f.Add([]byte("not a tar at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := EntriesFromTar(bytes.NewReader(data))
		a := Analyze([]LayerInput{{Entries: entries}, {Entries: entries}})
		a.Tips()
		if len(a.Layers) == 2 {
			a.Merged(1)
		}
	})
}
