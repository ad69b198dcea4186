FROM alpine:3.20
WORKDIR "/usr/local"
WORKDIR '/opt/app'
