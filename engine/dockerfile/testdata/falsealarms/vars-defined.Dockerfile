FROM alpine:3.20
ARG VERSION=1
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY app-${VERSION}.tar /tmp/
RUN for f in /tmp/*; do echo "$f"; done && NAME=x && echo "$NAME" && echo "$APP_HOME $PYTHON_VERSION"
