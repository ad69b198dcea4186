# syntax=docker/dockerfile:1.4
FROM debian:bookworm-slim
RUN <<EOT bash
  set -eux
  apt-get update
  apt-get install -y --no-install-recommends ca-certificates=20230311
  rm -rf /var/lib/apt/lists/*
EOT
COPY <<-EOF /etc/app/config.ini
	[server]
	port = 8080
	EOF
RUN <<EOF
#!/usr/bin/env sh
echo "configured" > /etc/app/status
EOF
RUN useradd -r app
USER app
CMD ["cat", "/etc/app/status"]
