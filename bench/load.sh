#!/usr/bin/env bash
# Load: 1,000 containers created, started, exec'd into and removed, 100 at a
# time, then 100 failed starts (a command that is not in the image), with
# the stock docker CLI; once against berthd, then against Debian's dockerd
# in the same run. Before and after each, it records the daemon's resident
# memory, open files and threads (dockerd's figure adds its containerd), and
# the host's mounts, network namespaces (nsfs mounts), veths, cgroup
# directories and processes. Everything should come back to its baseline.
#
#   bash bench/load.sh              # N=1000 PAR=100 FAIL=100 DAEMONS="berth docker"
#
# Needs root. Ends only what it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${N:-1000}
PAR=${PAR:-100}
FAIL=${FAIL:-100}
SETTLE=${SETTLE:-20}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
need_packages docker.io docker-registry busybox-static debootstrap iproute2
PEERS=/var/tmp/berth-peers
if [ ! -d "$PEERS" ]; then cp -r "$ROOT/../shared/peers" "$PEERS" && chmod -R u+w "$PEERS"; fi
{ curl -sf http://127.0.0.1:5000/v2/ >/dev/null && docker version >/dev/null 2>&1; } || "$PEERS/start-daemons.sh" >/dev/null
curl -sf http://127.0.0.1:5000/v2/busybox/tags/list | grep -q latest || "$PEERS/mkbase.sh" >/dev/null
IMG=127.0.0.1:5000/busybox:latest

go build -tags seccomp -o "$ROOT/bin/berthd" ./cmd/berthd
RUN=/run/berth-bench-load
SOCK=$RUN/berth.sock
DATA=/var/lib/berth-bench-load
if [ -S "$SOCK" ] && docker -H "unix://$SOCK" version >/dev/null 2>&1; then
  echo "a berthd already serves $SOCK: stop it first" >&2
  exit 1
fi
# What an interrupted earlier run left: its mounts, then its folders.
{ grep -E " ($DATA|$RUN)/" /proc/mounts || true; } | awk '{print $2}' | sort -r | xargs -r umount -l
rm -rf "$DATA"
"$ROOT/bin/berthd" -H "unix://$SOCK" --data-root "$DATA" --exec-root "$RUN" -b berthload0 --bip 10.234.0.1/24 >"$OUT/berthd-load.log" 2>&1 &
BERTHD=$!
trap 'kill $BERTHD 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done

# pids of a daemon: berthd alone; dockerd with its containerd.
daemon_pids() {
  case $1 in
  berth) echo "$BERTHD" ;;
  docker) echo "$(cat /var/run/docker.pid) $(pgrep -xo containerd || true)" ;;
  esac
}
sum_status() { # field pids...
  local f=$1 total=0 v
  shift
  for p in "$@"; do
    v=$(awk -v f="$f:" '$1==f {print $2}' "/proc/$p/status")
    total=$((total + v))
  done
  echo "$total"
}
measure() { # daemon -> one line of figures
  # shellcheck disable=SC2046
  set -- $(daemon_pids "$1")
  local fds=0
  for p in "$@"; do fds=$((fds + $(ls "/proc/$p/fd" | wc -l))); done
  printf 'rss_kb=%s fds=%s threads=%s mounts=%s netns=%s veths=%s cgroups=%s procs=%s\n' \
    "$(sum_status VmRSS "$@")" "$fds" "$(sum_status Threads "$@")" \
    "$(wc -l </proc/mounts)" "$(grep -c ' nsfs ' /proc/mounts || true)" \
    "$(ip -o link show type veth | wc -l)" "$(find /sys/fs/cgroup -type d 2>/dev/null | wc -l)" \
    "$(ps -e -o pid=,ppid= | awk '$1 != 2 && $2 != 2' | wc -l)"
}

one() { # docker-cli-prefix index: the life of one container
  local d=$1 i=$2
  $d create --name "load$i" "$IMG" sleep 600 >/dev/null &&
    $d start "load$i" >/dev/null &&
    $d exec "load$i" true &&
    $d rm -f "load$i" >/dev/null
}
export -f one
export IMG

load() { # name docker-cli-prefix
  local name=$1 d=$2 start end
  $d pull -q "$IMG" >/dev/null
  $d run --rm "$IMG" true # warm: the first run creates what every later one shares
  sleep 2
  echo "$name before: $(measure "$name")" | tee -a "$OUT/load.txt"
  start=$(date +%s.%N)
  seq 1 "$N" | xargs -P "$PAR" -I{} bash -c "one '$d' {}" || echo "$name: some lives failed" | tee -a "$OUT/load.txt"
  seq 1 "$FAIL" | xargs -P "$PAR" -I{} bash -c "$d run --rm $IMG nope >/dev/null 2>&1; true"
  end=$(date +%s.%N)
  local left
  left=$($d ps -aq | wc -l)
  sleep "$SETTLE"
  echo "$name after:  $(measure "$name") containers_left=$left seconds=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b-a}')" | tee -a "$OUT/load.txt"
}

echo "# $(date -u +%FT%TZ) N=$N PAR=$PAR FAIL=$FAIL SETTLE=${SETTLE}s $(nproc) cores" | tee -a "$OUT/load.txt"
for daemon in ${DAEMONS:-berth docker}; do
  case $daemon in
  berth) load berth "docker -H unix://$SOCK" ;;
  docker) load docker docker ;;
  esac
done
