package store

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func getxattr(path, attr string, buf []byte) (int, error) { return unix.Lgetxattr(path, attr, buf) }

func owner(fi os.FileInfo) (int, int) {
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}
