FROM alpine:3.20
ENV ONLYKEY
RUN echo after
