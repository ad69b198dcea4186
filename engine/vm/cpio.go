package vm

import (
	"fmt"
	"io"
	"path"
	"sort"
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
	if r := n % 4; r != 0 {
		_, err := w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}
