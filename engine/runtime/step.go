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
	// Mounts are files or directories bind-mounted read-only.
	Mounts         []StepMount
	Stdout, Stderr io.Writer
}

// StepMount is a read-only bind mount into a build step.
type StepMount struct{ Source, Target string }
