FROM Python:3.9
FROM ghcr.io/Me/App:1.0
FROM alpine:3..20
