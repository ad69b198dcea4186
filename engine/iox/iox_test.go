package iox

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Every compression Docker accepts reads back as the original; plain
// data passes through.
func TestDecompress(t *testing.T) {
	want := bytes.Repeat([]byte("berth layer "), 5000)
	compress := map[Compression]func(io.Writer) io.WriteCloser{
		Gzip: func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		Xz: func(w io.Writer) io.WriteCloser {
			zw, _ := xz.NewWriter(w)
			return zw
		},
		Zstd: func(w io.Writer) io.WriteCloser {
			zw, _ := zstd.NewWriter(w)
			return zw
		},
	}
	for c, newWriter := range compress {
		var buf bytes.Buffer
		zw := newWriter(&buf)
		zw.Write(want)
		zw.Close()
		if got := Detect(buf.Bytes()); got != c {
			t.Errorf("%s detected as %q", c, got)
		}
		r, err := Decompress(&buf)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", c, len(got), err)
		}
	}
	// bzip2: the standard library only reads it; a stream made by bzip2(1).
	bz := []byte("BZh91AY&SY\x1d^Y\xd5\x00\x00\x00\xc1\x00\x00\x10\x00` \x00!\x98\x19\x84aw$S\x85\t\x01\xd5\xe5\x9dP")
	if r, err := Decompress(bytes.NewReader(bz)); err != nil {
		t.Fatal(err)
	} else if got, err := io.ReadAll(r); err != nil || string(got) != "hi\n" {
		t.Errorf("bzip2: %q %v", got, err)
	}
	r, _ := Decompress(bytes.NewReader([]byte("plain")))
	if got, _ := io.ReadAll(r); string(got) != "plain" {
		t.Errorf("plain: %q", got)
	}
	cr := NewCountingReader(bytes.NewReader(want))
	io.Copy(io.Discard, cr)
	if cr.Count() != int64(len(want)) {
		t.Errorf("counted %d", cr.Count())
	}
}
