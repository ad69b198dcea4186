FROM debian:bookworm-slim
ADD rootfs.tar.gz /
ADD https://example.com/releases/tool-1.2.3.tar.gz /tmp/tool.tar.gz
RUN tar -xzf /tmp/tool.tar.gz -C /usr/local/bin && rm /tmp/tool.tar.gz
RUN useradd -r tool
USER tool
ENTRYPOINT ["/usr/local/bin/tool"]
