# hadolint global ignore=DL3059
FROM debian:12-slim
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
RUN echo a
RUN echo b
