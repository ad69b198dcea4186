FROM ubuntu:24.04
RUN sudo apt-get install -y --no-install-recommends make=4.3-4.1build2 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL https://example.com/install.sh | bash
RUN wget -q https://example.com/x
USER 1000
