// Package overlayfs mounts a container's or a build step's file system
// from stored layers, and names overlayfs's bookkeeping for whoever runs
// it: root, or an engine in a user namespace (rootless), where overlayfs
// keeps it in user.* extended attributes (mount option userxattr) because
// trusted.* ones are root's on the host.
package overlayfs
