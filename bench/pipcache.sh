#!/usr/bin/env bash
# A RUN --mount=type=cache pip install, rebuilt after a requirements change,
# through buildx (hyperfine mean of RUNS), side by side in one run: Berth
# (docker build with buildx against berthd: BuildKit's API over Berth's
# builder) and Debian's dockerd with its BuildKit (the same buildx, docker
# driver). No PyPI here: bench/pipcache/mkindex.py makes a package index of
# synthetic wheels (PKGS of SIZE bytes), served on this machine; pip comes
# from Debian's python3-pip, added to the peers' python image and pushed to
# their registry. Each run adds or drops one requirement, so pip's step
# reruns with its cache mount warm. Needs root; starts the peers' dockerd
# and registry when they are down, and ends what it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
PKGS=${PKGS:-30}
SIZE=${SIZE:-1048576}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PEERS=/var/tmp/berth-peers
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
peers_for_builds
export DOCKER_CONFIG=$PEERS/tools/docker-config

start_berthd pip -b berthpip0 --bip 10.236.0.1/24
WORK=$(mktemp -d)
python3 -m http.server 18765 --bind 0.0.0.0 --directory "$WORK/index" >/dev/null 2>&1 &
INDEXD=$!
trap 'kill $BERTHD $INDEXD 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The base: the peers' python image with Debian's pip.
PIPIMG=127.0.0.1:5000/python-pip:3.11
mkdir -p "$WORK/base/root"
(cd "$WORK/base" && apt-get download -qq -o APT::Sandbox::User=root python3-pip python3-setuptools python3-wheel python3-pkg-resources python3-distutils python3-lib2to3 >/dev/null)
for deb in "$WORK"/base/*.deb; do dpkg-deb -x "$deb" "$WORK/base/root"; done
# Byte-compiled, as Debian's postinst leaves pip (else every pip run compiles it).
printf 'FROM 127.0.0.1:5000/python:3.11-slim\nCOPY root/ /\nRUN python3 -m compileall -q /usr/lib/python3/dist-packages\nENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore\n' >"$WORK/base/Dockerfile"
DOCKER_BUILDKIT=0 docker -H "unix://$SOCK" build -q -t "$PIPIMG" "$WORK/base" >/dev/null
docker -H "unix://$SOCK" push -q "$PIPIMG" >/dev/null
docker pull -q "$PIPIMG" >/dev/null

python3 bench/pipcache/mkindex.py "$WORK/index" "$PKGS" "$SIZE"
CTX=$WORK/app
mkdir -p "$CTX"
cat >"$CTX/Dockerfile" <<DOCKERFILE
FROM $PIPIMG
ARG HOST
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install --break-system-packages --index-url http://\$HOST:18765/simple --trusted-host \$HOST -r requirements.txt
DOCKERFILE
seq -f "bench-pkg-%02g" 0 $((PKGS - 2)) >"$CTX/requirements.txt"
# Each run changes the requirements (a new line every time, so no earlier
# build's step matches): pip's step reruns, its cache mount warm.
FLIP="echo \"# \$(date +%s%N)\" >>$CTX/requirements.txt"

build_berth="DOCKER_HOST=unix://$SOCK docker build --progress=quiet --build-arg HOST=10.236.0.1 -t bench/pip:berth $CTX"
build_docker="docker build --progress=quiet --build-arg HOST=172.17.0.1 -t bench/pip:buildkit $CTX"
for b in "$build_berth" "$build_docker"; do bash -c "$b" >/dev/null; bash -c "$FLIP; $b" >/dev/null; done # both caches warm
hyperfine --shell bash --warmup 1 --runs "$RUNS" --export-json "$OUT/pipcache.json" --export-markdown "$OUT/pipcache.md" \
  --prepare "$FLIP" -n berth-buildx "$build_berth >/dev/null 2>&1" \
  --prepare "$FLIP" -n docker-buildkit "$build_docker >/dev/null 2>&1"
echo "table: $OUT/pipcache.md"
