FROM debian:12-slim
RUN curl -sSL https://example.com/x.tgz | tar xz
RUN set -o pipefail && curl -sSL https://example.com/y.tgz | tar xz
