# check=experimental=InvalidDefinitionDescription
FROM alpine:3.20
# the version to install
ARG VERSION=1
