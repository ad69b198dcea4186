ARG TAG
FROM alpine:${TAG:-3.20}
FROM alpine:${DEBUG:-3.19}
