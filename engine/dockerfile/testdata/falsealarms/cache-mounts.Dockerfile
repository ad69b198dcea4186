FROM debian:12-slim
RUN --mount=type=cache,target=/var/lib/apt/lists --mount=type=cache,target=/var/cache/apt \
    apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5
FROM alpine:3.20
RUN --mount=type=cache,target=/var/cache/apk apk add curl=8.9.1-r0
FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3
