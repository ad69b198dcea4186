#!/usr/bin/env bash
# Berth's two set-up commands (see README.md):
#   packaging/dev/setup.sh run    build Berth's package, install it, open the app as
#                                 the user who ran sudo (run engine: only the engine)
#   packaging/dev/setup.sh test   install what the tests need, run every test
# Works on a fresh Debian 12 machine as root (or through sudo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO_VERSION=$(awk '/^go /{print $2}' go.mod)

if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "installing needs root: run this as root (su -), or install sudo" >&2; exit 1; }
  exec sudo -E "$0" "$@"
fi

apt_install() { # installs the Debian packages not yet installed
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Go: any go >= 1.21 fetches the exact toolchain go.mod names through the
# module proxy (GOTOOLCHAIN). Debian 12 ships 1.19, so take 1.21+ from
# bookworm-backports, on the mirror this machine already uses.
ensure_go() {
  export PATH=$PATH:/usr/local/go/bin:/usr/lib/go-1.23/bin
  if command -v go >/dev/null && go_ok; then return 0; fi
  if ! apt-cache policy golang-1.23-go 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    mirror=$(grep -rhoE '^(deb|URIs:)[^#]*https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^ ]+' | head -n1)
    echo "deb $mirror bookworm-backports main" >/etc/apt/sources.list.d/berth-backports.list
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports golang-1.23-go
}
go_ok() { # true when `go` can build this module (itself or via GOTOOLCHAIN)
  local v; v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  [ -n "$v" ] && [ "$(printf '%s\n1.21\n' "$v" | sort -V | head -n1)" = 1.21 ]
}

# gcc: cgo, for libcontainer's nsenter. libseccomp-dev: Docker's seccomp
# profile for every container and build step (berthd is built with the
# seccomp tag). iptables: containers' outbound NAT (and forwarding where
# dockerd set the FORWARD policy to DROP).
# uidmap (newuidmap/newgidmap) and passt (pasta): the engine of an ordinary
# user, in a user namespace from /etc/subuid with pasta as its network.
# busybox-static: the welcome tour's starter image is made from it, with
# nothing to download.
base_packages=(ca-certificates git gcc libc6-dev libseccomp-dev iptables uidmap passt busybox-static fuse-overlayfs)
# The desktop app (Fyne): OpenGL and X11/Wayland headers for its cgo driver.
gui_packages=(pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev)
ensure_go
export GOTOOLCHAIN=${GOTOOLCHAIN:-go$GO_VERSION+auto}
# Every build of the engine, and every test that runs containers, has
# Docker's seccomp profile (libcontainer's seccomp support). The app leaves
# out Fyne's 4 MB colour emoji font (no_emoji), which Fyne parses once per
# text style: 30 MB of the app's memory; the system's fonts still serve.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=seccomp,no_emoji"

case "${1:-}" in
run)
  # As a person gets Berth: the package built here and installed, then
  # the app started as the user who asked (through sudo), whose engine is
  # a rootless one of their own.
  apt_install "${base_packages[@]}" "${gui_packages[@]}"
  echo "Building Berth's package (the first build compiles Fyne's graphics code: a few minutes)…"
  deb=$(packaging/linux/build.sh dist | grep '\.deb$')
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb"
  person=${SUDO_USER:-}
  [ "$person" = root ] && person=
  as_person() { # runs a command as the person, in their session (sudo -E kept its variables)
    exec runuser -u "$person" -- "$@"
  }
  if [ "${2:-}" = engine ]; then
    if [ -n "$person" ]; then as_person berth engine start; fi
    echo "Starting the system's engine (as root). Point the docker CLI at it with:"
    echo "  export DOCKER_HOST=unix:///run/berth/berth.sock"
    exec berthd "${@:3}"
  fi
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo "Berth is installed. No display here: open Berth from your desktop's menu, or in a terminal run: berth engine start" >&2
    exit 1
  fi
  if [ -n "$person" ]; then as_person berth; fi
  echo "Berth is installed. Started as root, the app uses the system's engine; as you, open Berth from the desktop's menu (or run: berth), and your engine is a rootless one of your own."
  exec berth
  ;;
test)
  # busybox-static: the tests' base image; python3 (Debian's): the Python
  # test base is made from it. The docker CLI: the end-to-end tests.
  # Xvfb, xdotool and ImageMagick: the app's end-to-end test drives the real
  # window on a virtual display and takes screenshots. xz-utils and cpio:
  # the VM image is built (kernel unpacked) and checked; QEMU boots it
  # under emulation for the VM test. mingw-w64: the Windows build of the
  # app (cgo: Fyne's GL driver) is cross-compiled and vetted.
  # desktop-file-utils: the .deb's desktop entry is validated.
  # python3-docker: docker-py's flows are driven against berthd, and
  # docker-compose (v1, on docker-py) runs a two-service project on it.
  # openssh-client (and libwrap0, for sshd): remote engines are reached
  # through a real sshd on loopback.
  # qemu-user-static: builds for another CPU (--platform linux/arm64) run
  # their RUN steps under its emulation.
  apt_install "${base_packages[@]}" "${gui_packages[@]}" busybox-static python3 python3-docker xvfb xauth xdotool imagemagick xz-utils cpio qemu-system-x86 gcc-mingw-w64-x86-64 desktop-file-utils docker-compose openssh-client libwrap0 qemu-user-static curl
  command -v docker >/dev/null || apt_install docker.io
  # sshd is unpacked from Debian's openssh-server into a cache, once per
  # version, rather than installed: installing it would start and enable
  # an SSH server on this machine. The tests start it themselves.
  sshd_version=$(apt-cache policy openssh-server | awk '/Candidate:/ {print $2}' | tr ':' '_')
  sshd_cache=/var/tmp/berth-test-tools/openssh-server-$sshd_version
  if [ ! -x "$sshd_cache/usr/sbin/sshd" ]; then
    sshd_deb=$(mktemp -d)
    mkdir -p "$(dirname "$sshd_cache")"
    (cd "$sshd_deb" && apt-get download -qq -o APT::Sandbox::User=root openssh-server && dpkg-deb -x openssh-server_*.deb "$sshd_cache.tmp")
    rm -rf "$sshd_deb" "$sshd_cache" && mv "$sshd_cache.tmp" "$sshd_cache"
  fi
  export BERTH_TEST_SSHD=$sshd_cache/usr/sbin/sshd
  # go_tool BIN MODULE@VERSION PACKAGE LDFLAGS builds a test tool from the
  # Go module proxy into the cache, once per version. go install refuses
  # these modules' go.mod (exclude directives), so they build in a copy.
  go_tool() {
    [ -x "$1" ] && return 0
    local src dir
    src=$(mktemp -d)
    if dir=$(go mod download -json "$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') && [ -n "$dir" ]; then
      cp -r "$dir/." "$src" && chmod -R u+w "$src"
      (cd "$src" && go build -mod=mod -ldflags "$4" -o "$1.tmp" "$3") && mv "$1.tmp" "$1" ||
        echo "$2 could not be built: its test will skip" >&2
    fi
    rm -rf "$src"
  }
  # compose v2 (Debian has only v1), about 4 minutes on 2 cores: the
  # compose test runs it beside v1, and says so when it could not be built.
  compose_version=v2.35.1
  compose_bin=/var/tmp/berth-test-tools/docker-compose-$compose_version
  go_tool "$compose_bin" "github.com/docker/compose/v2@$compose_version" ./cmd "-X github.com/docker/compose/v2/internal.Version=$compose_version"
  if [ -x "$compose_bin" ]; then export BERTH_TEST_COMPOSE=$compose_bin; fi
  # The docker CLI's buildx plugin (Debian 12 has none): with it beside the
  # CLI, docker build builds through BuildKit's API, which the buildx test
  # drives against berthd.
  buildx_version=v0.24.0
  buildx_bin=/var/tmp/berth-test-tools/docker-buildx-$buildx_version
  go_tool "$buildx_bin" "github.com/docker/buildx@$buildx_version" ./cmd/buildx "-X github.com/docker/buildx/version.Version=$buildx_version -X github.com/docker/buildx/version.Package=github.com/docker/buildx"
  if [ -x "$buildx_bin" ]; then export BERTH_TEST_BUILDX=$buildx_bin; fi
  # Debian's arm64 busybox, the base image of the test that builds for
  # arm64: the amd64 package's file in the archive, for arm64.
  bb_uri=$(apt-get download --print-uris busybox-static 2>/dev/null | awk -F"'" '{print $2}' | sed 's/_amd64\.deb$/_arm64.deb/')
  bb_arm64=/var/tmp/berth-test-tools/$(basename "$bb_uri" .deb | sed "s/%2b/+/g")
  if [ ! -x "$bb_arm64" ] && [ -n "$bb_uri" ]; then
    bb_tmp=$(mktemp -d)
    if curl -fsSL -o "$bb_tmp/bb.deb" "$bb_uri" && dpkg-deb -x "$bb_tmp/bb.deb" "$bb_tmp/x"; then
      mkdir -p "$(dirname "$bb_arm64")" && cp "$bb_tmp/x/bin/busybox" "$bb_arm64"
    else
      echo "no arm64 busybox from $bb_uri: the build-for-arm64 test will skip" >&2
    fi
    rm -rf "$bb_tmp"
  fi
  if [ -x "$bb_arm64" ]; then export BERTH_TEST_BUSYBOX_ARM64=$bb_arm64; fi
  # pasta opens /dev/net/tun as the ordinary user the rootless tests
  # create; Debian makes it 0666, some containers CI runs in make it 0600.
  if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then chmod 0666 /dev/net/tun; fi
  unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
  if [ -n "$unformatted" ]; then echo "not gofmt-formatted:"; echo "$unformatted"; exit 1; fi
  go vet ./...
  # Cross-checks. Windows: the real thing, with Debian's mingw-w64 as the
  # cgo compiler (Fyne's GL driver needs it), and the app's .exe is built.
  # macOS has no cross compiler here: -tags ci selects Fyne's software
  # driver, and cmd/berth's main package (which even that needs cgo for)
  # is left to macOS CI.
  GOOS=darwin go vet -tags ci $(go list ./... | grep -v '/cmd/berth$')
  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc go vet ./...
  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc go build -o "${TMPDIR:-/tmp}/berth-windows-amd64.exe" ./cmd/berth
  # Each package's result and time, every skipped test with its reason,
  # every failure whole; passing tests stay quiet (go test -json, read by
  # testreport; pipefail keeps go test's exit status).
  go build -o "${TMPDIR:-/tmp}/berth-testreport" ./packaging/dev/testreport
  go test -json -race -count=1 -timeout 20m ./... | "${TMPDIR:-/tmp}/berth-testreport"
  # Fuzz for a bounded time what takes untrusted input: the validator
  # (parse, rules, steps, incremental re-analysis) and the builder's parse
  # never panic; the layer unpacker writes nothing outside its directory;
  # docker load keeps nothing it refused; create requests get a 4xx, never
  # a 500. Minimizing a find is capped so it cannot eat the whole budget.
  # Budgets are counts of runs (about 10-20 s each here), not durations:
  # Go 1.26's fuzz coordinator can fail a target that found nothing with
  # "context deadline exceeded" as a -fuzztime duration ends (a race,
  # go.dev/issue/75804, fixed in Go 1.27); a count has no deadline.
  fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$2" -fuzzminimizetime 10x "$3"; }
  fuzz FuzzAnalyze 30000x ./engine/dockerfile
  fuzz FuzzParseDockerfile 12000x ./engine/build
  fuzz FuzzUnpack 15000x ./engine/store
  fuzz FuzzLoad 3000x ./engine/store
  fuzz FuzzCreateRequest 50000x ./engine/api
  ;;
*)
  echo "usage: $0 run [berthd flags] | test" >&2
  exit 2
  ;;
esac
