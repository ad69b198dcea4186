FROM --platform=linux/amd64 alpine:3.20
FROM --platform=$TARGETPLATFORM alpine:3.20 AS b
FROM --platform=linux/arm64 alpine:3.20 AS build-arm64
