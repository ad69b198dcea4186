FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends -t bookworm-backports golang=2:1.23~1~bpo12+1 && rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get -q -q install --no-install-recommends curl=7.88.1-10+deb12u5 && rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get install -qq --no-install-recommends -o Dpkg::Options::=--force-confold wget=1.21.3-1+b2 && rm -rf /var/lib/apt/lists/*
