FROM alpine:3.20
RUN <<EOF
echo hi
COPY a b
