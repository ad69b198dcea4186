// Package linux holds Berth's Linux packages' recipe (build.sh, the
// desktop entry, the system engine's unit); its test builds them, installs
// the .deb on this machine as a person would, and purges it.
package linux
