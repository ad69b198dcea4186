package layers

import (
	"errors"
	"io"
)

// windowReader reads a section of a file through a 256 KiB window: the tar
// reader's many 512-byte header reads come from memory, while its seeks
// past file bodies stay seeks (nothing is read for a body it skips).
type windowReader struct {
	r        io.ReaderAt
	size     int64
	pos      int64
	buf      []byte
	bufStart int64
}

func newWindowReader(r io.ReaderAt, size int64) *windowReader {
	return &windowReader{r: r, size: size, buf: make([]byte, 0, 256<<10)}
}

func (w *windowReader) Read(p []byte) (int, error) {
	if w.pos >= w.size {
		return 0, io.EOF
	}
	if w.pos < w.bufStart || w.pos >= w.bufStart+int64(len(w.buf)) {
		n := int64(cap(w.buf))
		if rest := w.size - w.pos; rest < n {
			n = rest
		}
		w.buf = w.buf[:n]
		m, err := w.r.ReadAt(w.buf, w.pos)
		w.buf, w.bufStart = w.buf[:m], w.pos
		if m == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	n := copy(p, w.buf[w.pos-w.bufStart:])
	w.pos += int64(n)
	return n, nil
}

func (w *windowReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += w.pos
	case io.SeekEnd:
		offset += w.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	w.pos = offset
	return offset, nil
}
