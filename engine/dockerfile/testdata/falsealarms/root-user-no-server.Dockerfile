FROM alpine:3.20
RUN apk add --no-cache jq=1.7.1-r0
ENTRYPOINT ["jq"]
