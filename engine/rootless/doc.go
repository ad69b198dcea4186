// Package rootless runs berthd for an ordinary user, the way rootless
// Podman and Docker do: berthd starts itself again in a user namespace
// mapped from /etc/subuid and /etc/subgid (newuidmap and newgidmap, from
// Debian's uidmap), with mount and PID namespaces of its own. There it is
// root over the IDs it was given and nothing else: overlayfs mounts,
// container namespaces and the containers' network live in namespaces the
// user owns, and none of it is visible to, or left on, the host.
//
// Three processes, so that a crash leaves nothing behind:
//
//	berthd (the user)             maps the IDs, forwards signals, waits
//	└─ berthd, stage "init"       PID 1 of the new PID namespace: reaps
//	   └─ berthd, stage "engine"  the engine itself
//
// When the engine ends, however it ends, init ends, and with PID 1 the
// kernel ends every process in the namespace (containers, build steps,
// the network helper) and with the last of them its mounts.
package rootless
