FROM alpine:3.20
ENV PATH /opt/bin:$PATH
ENV GREETING hello world
USER 1
