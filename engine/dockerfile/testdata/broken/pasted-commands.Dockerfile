FROM alpine:3.20
docker build -t x .
apk add --no-cache curl
