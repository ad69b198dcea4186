FROM debian:12-slim AS base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
CMD python3 app.py
FROM base
ENTRYPOINT exec python3 app.py
RUN curl -sSL https://example.com/x.tgz | tar xz
