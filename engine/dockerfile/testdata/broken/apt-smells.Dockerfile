FROM debian:bookworm
RUN apt-get update
RUN apt-get install curl git
RUN apt-get update && apt-get install -y vim && apt-get upgrade -y
USER 1000
