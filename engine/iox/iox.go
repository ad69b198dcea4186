// Package iox holds the small I/O pieces the engine's packages share, so
// each is written once: decompression recognised by magic bytes, and
// counting readers and writers.
package iox

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is how a stream is compressed.
type Compression string

const (
	None  Compression = ""
	Gzip  Compression = "gzip"
	Bzip2 Compression = "bzip2"
	Xz    Compression = "xz"
	Zstd  Compression = "zstd"
)

var magics = []struct {
	c     Compression
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Bzip2, []byte("BZh")},
	{Xz, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// Detect recognises a compression by the first bytes of a stream (six are
// enough), as Docker does, rather than trusting a name or media type.
func Detect(head []byte) Compression {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.c
		}
	}
	return None
}

// Decompress reads r uncompressed, whatever of gzip, bzip2, xz and zstd
// it is compressed with, or as it is. Closing the result frees the
// decompressor (not r).
func Decompress(r io.Reader) (io.ReadCloser, error) {
	// 64 KiB: reads as large as the buffer skip it, so large copies lose
	// nothing, and a small docker cp (Watch's sync) does not touch 1 MiB.
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(6)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	c := Detect(head)
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case Bzip2:
		return io.NopCloser(bzip2.NewReader(br)), nil
	case Xz:
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(zr), nil
	case Zstd:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// CountingReader counts the bytes read through it.
type CountingReader struct {
	r io.Reader
	n int64
}

// NewCountingReader counts what is read from r.
func NewCountingReader(r io.Reader) *CountingReader { return &CountingReader{r: r} }

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Count is the bytes read so far.
func (c *CountingReader) Count() int64 { return c.n }

// CountingWriter counts the bytes written through it.
type CountingWriter struct {
	w io.Writer
	n int64
}

// NewCountingWriter counts what is written to w.
func NewCountingWriter(w io.Writer) *CountingWriter { return &CountingWriter{w: w} }

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Count is the bytes written so far.
func (c *CountingWriter) Count() int64 { return c.n }

// EntryPath turns a tar entry's name into a path relative to the root it
// unpacks into, refusing names that climb out of it ("../../etc/passwd"
// wraps engine.ErrUnsafeLayer); absolute names are taken as relative to
// the root, as tar does. The root itself is "".
func EntryPath(name string) (string, error) {
	for part := range strings.SplitSeq(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the layer root: %w", name, engine.ErrUnsafeLayer)
		}
	}
	return strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(name, "./")), "/"), nil
}
