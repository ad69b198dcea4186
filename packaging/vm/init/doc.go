// Command init is PID 1 of Berth's VM: it mounts the kernel's file
// systems, loads the modules the image lists (in dependency order), sets
// up the network QEMU's user networking expects, formats the data disk on
// first boot, and runs berthd; when berthd ends, the VM powers off.
package main
