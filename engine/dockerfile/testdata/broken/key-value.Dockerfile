FROM alpine:3.20
ENV NAME="unterminated
LABEL desc='also open
ARG OK=1
USER 1
