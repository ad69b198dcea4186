FROM alpine:3.20
LABEL org.opencontainers.image.title="tools" \
      org.opencontainers.image.source="https://example.com/tools"
RUN apk add --no-cache curl jq bash
COPY --chmod=755 entrypoint.sh /usr/local/bin/entrypoint.sh
RUN addgroup -S tools && adduser -S tools -G tools
USER tools
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["--help"]
