FROM alpine:3.20
RUN echo "unclosed && ls
RUN if true; then echo x; fi
