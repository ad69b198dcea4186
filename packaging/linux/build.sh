#!/usr/bin/env bash
# Builds Berth's Linux packages for x86_64 from this checkout:
#   dist/berth_VERSION_amd64.deb         Debian 12 and later (apt install ./…)
#   dist/berth-VERSION-linux-amd64.tar.gz  any glibc Linux (see INSTALL inside)
# Usage: packaging/linux/build.sh [OUT_DIR]   (default dist). Needs Go and
# the build packages packaging/dev/setup.sh installs, and dpkg-deb.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(awk -F'"' '/^ *Version *=/{print $2; exit}' FyneApp.toml)
arch=amd64
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The engine always carries Docker's seccomp profile (libseccomp); the app
# leaves out Fyne's colour emoji font (no_emoji: 30 MB of its memory).
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=seccomp,no_emoji"
ldflags="-s -w -X main.version=$version"
root=$stage/deb
mkdir -p "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/icons/hicolor/256x256/apps" \
  "$root/usr/lib/systemd/system" "$root/usr/share/doc/berth" "$root/usr/share/berth" "$root/DEBIAN"
go build -ldflags "$ldflags" -o "$root/usr/bin/berthd" ./cmd/berthd
go build -ldflags "$ldflags" -o "$root/usr/bin/berth" ./cmd/berth
install -m 0644 packaging/linux/dev.berth.app.desktop "$root/usr/share/applications/"
install -m 0644 assets/icon.png "$root/usr/share/icons/hicolor/256x256/apps/dev.berth.app.png"
install -m 0644 packaging/linux/berthd.service "$root/usr/lib/systemd/system/berthd.service"
install -m 0644 packaging/linux/copyright "$root/usr/share/doc/berth/copyright"
install -m 0644 packaging/linux/apparmor-berthd "$root/usr/share/berth/apparmor-berthd"

# The tarball: the same files under one folder, to unpack anywhere.
tarname=berth-$version-linux-$arch
mkdir -p "$stage/$tarname"
cp -a "$root/usr/." "$stage/$tarname/"
install -m 0644 packaging/linux/INSTALL "$stage/$tarname/INSTALL"
tar -C "$stage" --owner=0 --group=0 --sort=name --mtime=@0 -czf "$out/$tarname.tar.gz" "$tarname"

# The Debian package. Depends: what the app loads (OpenGL, X11 or
# Wayland; GLFW opens the X extensions itself), libseccomp for the
# engine, and what an ordinary user's rootless engine runs: newuidmap
# and newgidmap (uidmap), pasta (passt), iptables in its namespace;
# it recommends fuse-overlayfs, which mounts layers where the kernel lets
# no user namespace mount overlayfs, and git, which docker build URL of a
# Git repository clones with.
size=$(du -sk "$root/usr" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" packaging/linux/control >"$root/DEBIAN/control"
install -m 0755 packaging/linux/postinst packaging/linux/postrm "$root/DEBIAN/"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/berth_${version}_$arch.deb" >/dev/null
echo "$out/berth_${version}_$arch.deb"
echo "$out/$tarname.tar.gz"
