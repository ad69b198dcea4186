#!/usr/bin/env bash
# Pull a Debian-based Python image (debootstrap minbase + python3, pushed to
# a loopback registry by ../shared/peers/mkbase.sh) into an empty store until
# it is ready to run: Berth (the stock docker CLI against berthd) vs Docker
# (Debian's docker.io, default flags) vs skopeo copy to an OCI directory
# (no unpack: the floor). All three in one hyperfine run, interleaved.
#
#   bash bench/pull.sh            # RUNS=10 SETTLE=0 by default
#   SETTLE=6 bash bench/pull.sh   # sync and wait 6 s before each run (see docs/benchmarks.md)
#
# Needs root. Installs nothing itself beyond what its first lines list.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
SETTLE=${SETTLE:-0}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
need_packages docker.io skopeo docker-registry busybox-static debootstrap hyperfine

# The peer scripts write logs beside themselves; shared/ is read-only.
PEERS=/var/tmp/berth-peers
fresh_peers
"$PEERS/start-daemons.sh"
"$PEERS/mkbase.sh"

IMG=127.0.0.1:5000/python:3.11-slim
go build -tags seccomp -o "$ROOT/bin/berthd" ./cmd/berthd
SOCK=/run/berth-bench/berth.sock
DATA=/var/lib/berth-bench
# A berthd an earlier run left (cut off mid-run): ended by the PID it recorded.
if [ -f /run/berth-bench/berthd.pid ]; then kill "$(cat /run/berth-bench/berthd.pid)" 2>/dev/null || true; sleep 0.5; fi
rm -rf "$DATA"
"$ROOT/bin/berthd" -H "unix://$SOCK" --data-root "$DATA" --exec-root /run/berth-bench >"$OUT/berthd.log" 2>&1 &
BERTHD=$!
trap 'kill $BERTHD 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

settle="sync; sleep $SETTLE"
berth="docker -H unix://$SOCK"
hyperfine --runs "$RUNS" --export-markdown "$OUT/pull.md" --export-json "$OUT/pull.json" \
  --prepare "$berth rmi -f $IMG >/dev/null 2>&1 || true; $settle" -n "berth (docker CLI -> berthd)" "$berth pull -q $IMG" \
  --prepare "docker rmi -f $IMG >/dev/null 2>&1 || true; $settle" -n "docker pull (dockerd 20.10)" "docker pull -q $IMG" \
  --prepare "rm -rf /var/tmp/berth-skopeo; $settle" -n "skopeo copy to OCI dir" \
  "skopeo copy -q --src-tls-verify=false docker://$IMG oci:/var/tmp/berth-skopeo:x"

# Berth's blob download time alone (to compare with skopeo, which stops there).
BERTH_BENCH_IMAGE=$IMG go test -run '^$' -bench PullReadyToRun -benchtime 1x -count "$RUNS" ./engine/registry/ | tee "$OUT/pull-go.txt"
