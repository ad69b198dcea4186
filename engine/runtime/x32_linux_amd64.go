package runtime

import (
	"sync"

	"golang.org/x/sys/unix"
)

// x32SyscallBit marks a system call of the x32 ABI.
const x32SyscallBit = 0x40000000

// kernelRunsX32 says whether this kernel takes x32 system calls: one is
// tried once (getpid, harmless), and a kernel without x32 answers ENOSYS.
var kernelRunsX32 = sync.OnceValue(func() bool {
	_, _, errno := unix.RawSyscall(x32SyscallBit|unix.SYS_GETPID, 0, 0, 0)
	return errno != unix.ENOSYS
})
