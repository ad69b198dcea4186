from alpine:3.20 AS Build
RUN echo one
run echo two
FROM alpine:3.20 as final
USER 1
