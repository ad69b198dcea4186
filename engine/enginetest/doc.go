// Package enginetest holds test helpers shipped with the engine: a small
// runnable base image built from the host's static busybox (Debian's
// busybox-static), and a real in-process registry (go-containerregistry's
// pkg/registry) that can be told to misbehave — lie about digests, cut
// connections mid-blob — so tests exercise the engine against real HTTP.
// No test reaches Docker Hub.
package enginetest
