FROM alpine:3.20
ADD app.py /app/
ADD vendor.tar.gz /opt/
ADD https://example.com/file /x
USER 1
