# escape=x
FROM alpine:3.20
USER 1
