FROM alpine:3.20
RUN echo one && echo two
RUN echo three
RUN --mount=type=secret,id=a cat /run/secrets/a
RUN --mount=type=secret,id=b cat /run/secrets/b
