#!/usr/bin/env bash
# Build speed, side by side in one run (hyperfine medians of RUNS), on the
# peers' Python sample app (../shared/peers/apps/pyhello, base
# 127.0.0.1:5000/python:3.11-slim from the peers' mkbase.sh):
#   cold       no image, no build cache (pruned before every run)
#   cached     a rebuild that changes nothing
#   edit       a rebuild after appending a line to app.py
# for Berth (the stock docker CLI against berthd: the classic build API,
# and docker build with buildx installed, through BuildKit's API),
# Debian's dockerd with the classic builder and with BuildKit (buildx from
# the peers' get-buildx.sh), and `buildah bud --layers`.
# Needs root; starts the peers' dockerd and registry when they are down.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PEERS=/var/tmp/berth-peers
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
peers_for_builds
PY=127.0.0.1:5000/python:3.11-slim

start_berthd build -b berthbench0 --bip 10.233.0.1/24
trap 'kill $BERTHD 2>/dev/null || true' EXIT
berth="docker -H unix://$SOCK"
$berth pull -q $PY >/dev/null
docker pull -q $PY >/dev/null
# dockerd starts from an empty build cache, as berthd does (a fresh data root).
docker builder prune -af >/dev/null
# shellcheck disable=SC1091
(source "$PEERS/env.sh"; buildah pull -q --tls-verify=false $PY >/dev/null)

WORK=$(mktemp -d)
CTX=$WORK/pyhello
cp -a "$PEERS/apps/pyhello" "$CTX"
EDIT="echo \"# edit \$(date +%s%N)\" >> $CTX/app.py"
BK="DOCKER_CONFIG=$PEERS/tools/docker-config DOCKER_BUILDKIT=1 docker build --progress=quiet"

declare -A build clean
build[berth]="DOCKER_BUILDKIT=0 $berth build -q -t bench/py:berth $CTX"
clean[berth]="$berth rmi -f bench/py:berth >/dev/null 2>&1; $berth builder prune -f >/dev/null 2>&1"
build[berth-buildx]="DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$PEERS/tools/docker-config docker build --progress=quiet -t bench/py:berthx $CTX"
clean[berth-buildx]="$berth rmi -f bench/py:berthx >/dev/null 2>&1; $berth builder prune -f >/dev/null 2>&1"
build[docker-classic]="DOCKER_BUILDKIT=0 docker build -q -t bench/py:classic $CTX"
clean[docker-classic]="docker rmi -f bench/py:classic >/dev/null 2>&1; docker image prune -f >/dev/null 2>&1"
build[docker-buildkit]="$BK -t bench/py:buildkit $CTX"
clean[docker-buildkit]="docker rmi -f bench/py:buildkit >/dev/null 2>&1; docker builder prune -af >/dev/null 2>&1"
build[buildah]="source $PEERS/env.sh; buildah bud -q --layers --tls-verify=false -t bench/py:buildah $CTX"
clean[buildah]="source $PEERS/env.sh; buildah rmi -f bench/py:buildah >/dev/null 2>&1; buildah rmi --prune >/dev/null 2>&1; buildah rm --all >/dev/null 2>&1"

order="berth berth-buildx docker-classic docker-buildkit buildah"
for case in cold cached edit; do
  args=()
  for b in $order; do
    case $case in
      cold) prep="${clean[$b]}" ;;
      cached) prep="true" ;;
      edit) prep="$EDIT" ;;
    esac
    bash -c "${build[$b]}" >/dev/null 2>&1 # works, and warms the cache
    args+=(--prepare "$prep" -n "$b" "${build[$b]} >/dev/null 2>&1")
  done
  hyperfine --shell bash --warmup 1 --runs "$RUNS" --export-json "$OUT/build-$case.json" --export-markdown "$OUT/build-$case.md" "${args[@]}"
done
rm -rf "$WORK"
echo "tables: $OUT/build-{cold,cached,edit}.md"
