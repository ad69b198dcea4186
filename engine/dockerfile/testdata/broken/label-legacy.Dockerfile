FROM alpine:3.20
LABEL maintainer jane@example.com
LABEL version="1.0" description="a tool"
