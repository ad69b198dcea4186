FROM debian:12-slim
RUN aptitude install vim=2:9.0.1378-2 && rm -rf /var/lib/apt/lists/*
RUN pip2 install requests==2.27.1 && echo done
