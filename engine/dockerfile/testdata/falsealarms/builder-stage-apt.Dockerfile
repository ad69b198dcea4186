FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 && gcc --version > /version
FROM debian:12-slim AS unused
RUN apt-get update && apt-get install -y --no-install-recommends make=4.3-4.1
FROM alpine:3.20
COPY --from=build /version /version
