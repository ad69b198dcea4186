FROM alpine:3.20
RUN apk add curl && apk update
RUN apk add --no-cache git
USER 1
