package vm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// CpioFile is one initramfs entry: Data (a regular file) or Link (a symlink).
type CpioFile struct {
	Data []byte
	Mode uint32
	Link string
}

// WriteCpio writes files as a "newc" cpio archive (what Linux unpacks as
// an initramfs): parents first, in sorted order, every time and owner zero,
// so the same files always give the same bytes.
func WriteCpio(w io.Writer, files map[string]CpioFile) error {
	dirs := map[string]bool{}
	for name := range files {
		for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "etc", "var", "var/lib", "var/lib/berth", "root"} {
		dirs[d] = true
	}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	ino := 1
	for _, n := range names {
		var mode uint32
		var data []byte
		switch f, ok := files[n]; {
		case !ok:
			mode = 0o040755
		case f.Link != "":
			mode, data = 0o120777, []byte(f.Link)
		default:
			mode, data = 0o100000|f.Mode, f.Data
		}
		if err := entry(w, ino, n, mode, data); err != nil {
			return err
		}
		ino++
	}
	return entry(w, 0, "TRAILER!!!", 0, nil)
}

func entry(w io.Writer, ino int, name string, mode uint32, data []byte) error {
	name = strings.TrimPrefix(name, "/")
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	if _, err := io.WriteString(w, hdr+name+"\x00"); err != nil {
		return err
	}
	if err := pad(w, len(hdr)+len(name)+1); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	return pad(w, len(data))
}

func pad(w io.Writer, n int) error {
	_, err := w.Write(make([]byte, padding(n)))
	return err
}

// ReadCpioFile is the content of the regular file name (no leading slash)
// in the "newc" cpio archive r, as WriteCpio writes one.
func ReadCpioFile(r io.Reader, name string) ([]byte, error) {
	br := bufio.NewReader(r)
	for {
		var hdr [110]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return nil, fmt.Errorf("read the cpio archive: %w", err)
		}
		if string(hdr[:6]) != "070701" {
			return nil, fmt.Errorf("read the cpio archive: not a newc archive (magic %q)", hdr[:6])
		}
		field := func(i int) (int64, error) { return strconv.ParseInt(string(hdr[6+8*i:14+8*i]), 16, 64) }
		mode, err1 := field(1)
		size, err2 := field(6)
		nameSize, err3 := field(11)
		if err := errors.Join(err1, err2, err3); err != nil || size < 0 || nameSize < 1 || nameSize > 4096 {
			return nil, fmt.Errorf("read the cpio archive: a broken header: %v", err)
		}
		nameBuf := make([]byte, nameSize)
		if _, err := io.ReadFull(br, nameBuf); err != nil {
			return nil, fmt.Errorf("read the cpio archive: %w", err)
		}
		entryName := strings.TrimPrefix(strings.TrimSuffix(string(nameBuf), "\x00"), "/")
		if entryName == "TRAILER!!!" {
			return nil, fmt.Errorf("%s is not in the cpio archive: %w", name, os.ErrNotExist)
		}
		br.Discard(padding(110 + int(nameSize)))
		if entryName == name && mode&0o170000 == 0o100000 {
			data := make([]byte, size)
			if _, err := io.ReadFull(br, data); err != nil {
				return nil, fmt.Errorf("read %s from the cpio archive: %w", name, err)
			}
			return data, nil
		}
		if _, err := br.Discard(int(size) + padding(int(size))); err != nil {
			return nil, fmt.Errorf("read the cpio archive: %w", err)
		}
	}
}

// padding is how many bytes bring n to a multiple of 4.
func padding(n int) int { return (4 - n%4) % 4 }
