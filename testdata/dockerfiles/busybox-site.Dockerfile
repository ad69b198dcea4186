FROM busybox:1.36
ENV GREETING="Hello, World!" PORT=8080
WORKDIR /www
RUN mkdir -p /www/cgi-bin && echo "built" > /www/build.txt
COPY index.html /www/index.html
RUN adduser -D -H www
USER www
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
