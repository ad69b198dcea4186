package runtime

import "io"

// Step is one process a builder runs on a filesystem made of stored
// layers: a Dockerfile RUN. What the process changes lands in UpperDir, an
// overlayfs upper directory in the store's unpacked layer form, which the
// builder turns into the step's layer.
type Step struct {
	// Layers are diff IDs, base first; none means an empty filesystem.
	Layers []string
	// UpperDir and WorkDir are empty directories on one filesystem.
	UpperDir, WorkDir string
	Args              []string
	Env               []string
	Cwd               string
	User              string
	// NoNetwork runs the step without network (RUN --network=none).
	NoNetwork bool
	// Mounts are what RUN --mount and heredoc scripts put in the step.
	Mounts         []StepMount
	Stdout, Stderr io.Writer
}

// StepMount is a mount into a build step: Source (a file, directory or
// socket) bound at Target, read-only unless Writable, or, with Tmpfs, an
// empty tmpfs of at most TmpfsSize bytes (0: the kernel's default).
type StepMount struct {
	Source, Target string
	Writable       bool
	Tmpfs          bool
	TmpfsSize      int64
}
