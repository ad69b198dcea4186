//go:build linux && !amd64

package runtime

// kernelRunsX32: only x86-64 kernels have the x32 ABI, and only their
// filters name it.
func kernelRunsX32() bool { return false }
