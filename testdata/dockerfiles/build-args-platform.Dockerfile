# syntax=docker/dockerfile:1
ARG ALPINE_VERSION=3.20
FROM --platform=$BUILDPLATFORM golang:1.23-alpine AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/tool .

FROM alpine:${ALPINE_VERSION}
COPY --from=build /out/tool /usr/bin/tool
USER 65534
ENTRYPOINT ["tool"]
