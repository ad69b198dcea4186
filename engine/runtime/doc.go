// Package runtime runs containers with libcontainer (runc's library, no
// runc binary): a rootfs of overlayfs over the store's unpacked layers, the
// image config with the request's overrides, docker's default isolation
// (namespaces, capabilities, masked /proc paths, a cgroup per container,
// rlimits capped at the engine's own), a bridge network with published
// ports, json-file logs, and state that survives an engine restart.
//
// The engine binary is also the container init: cmd/berthd calls Init when
// started as "init" (libcontainer re-executes /proc/self/exe, sealed by
// libcontainer against overwrites). Everything here is Linux-only; on macOS
// and Windows the engine runs inside Berth's Linux VM.
package runtime
