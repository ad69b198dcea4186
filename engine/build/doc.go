// Package build builds images from Dockerfiles, with Docker's semantics
// and a layer cache.
//
// The Dockerfile is parsed with BuildKit's parser and instruction types
// (github.com/moby/buildkit/frontend/dockerfile), so the grammar — line
// continuations, the escape directive, heredocs, flags — is Docker's own,
// and every syntax error is found before any step runs.
//
// Each stage's state is a list of the store's layers plus an image config.
// A step that changes files (RUN, COPY, ADD, WORKDIR) works on an
// overlayfs mount of the parent's layers with a fresh upper directory: a
// RUN in a container made by engine/runtime, a COPY by the engine itself
// writing into the mount (paths resolved inside it, so a symlink in the
// image or the context cannot lead outside). The upper directory is then
// exactly the step's diff, in the store's unpacked form, and becomes the
// layer without copying. A step whose diff is empty makes no layer.
//
// Cache: every step has a key, the hash of its parent's key, the
// instruction with its variables expanded, the build arguments a RUN sees,
// and for COPY and ADD the content of what they copy (paths, modes and
// file contents, never times). The result of a step — its layer and the
// image config after it, history included — is kept under that key in
// cache.json, so a rebuild that changes nothing gives the same image ID,
// and the cache survives restarts. The store keeps cached layers through
// WithRoots until the cache is pruned.
package build
