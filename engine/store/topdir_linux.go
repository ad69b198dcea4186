package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// spreadSubdirs marks dir as the top of a hierarchy (chattr +T), so ext4's
// Orlov allocator places each new subdirectory — each layer being unpacked
// — in a block group of its own. Without it, a layer unpacked right after
// an image was removed lands among thousands of just-freed inodes, which
// ext4 will not reuse yet and scans past one by one for every file created:
// measured here, unpacking a Python image took 6 s instead of 0.3 s.
// Other filesystems have no such flag; failing is harmless.
// fsTopdirFL is FS_TOPDIR_FL from linux/fs.h; x/sys/unix does not name it.
const fsTopdirFL = 0x00020000

func spreadSubdirs(dir string) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsTopdirFL != 0 {
		return
	}
	_ = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFL))
}
