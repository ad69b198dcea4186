package layers

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
)

// The window reader must read exactly what the data holds, whatever mix
// of reads and seeks it gets.
func TestWindowReaderMatchesData(t *testing.T) {
	data := make([]byte, 1<<20+123)
	rand.New(rand.NewSource(1)).Read(data)
	w := newWindowReader(bytes.NewReader(data), int64(len(data)))
	rng := rand.New(rand.NewSource(2))
	pos := int64(0)
	for i := 0; i < 2000; i++ {
		if rng.Intn(3) == 0 {
			pos = rng.Int63n(int64(len(data)) + 10)
			if got, err := w.Seek(pos, io.SeekStart); err != nil || got != pos {
				t.Fatalf("Seek(%d) = %d, %v", pos, got, err)
			}
			continue
		}
		buf := make([]byte, rng.Intn(4000)+1)
		n, err := w.Read(buf)
		if pos >= int64(len(data)) {
			if err != io.EOF {
				t.Fatalf("read at end: %d, %v", n, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(buf[:n], data[pos:pos+int64(n)]) {
			t.Fatalf("read %d bytes at %d: %v, data differs", n, pos, err)
		}
		pos += int64(n)
	}
}
