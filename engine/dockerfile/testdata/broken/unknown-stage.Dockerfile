FROM golang:1.23 AS build
RUN go build -o /app .
FROM alpine:3.20
COPY --from=biuld /app /app
COPY --from=5 /x /y
COPY --from=tools /bin/t /t
USER 1000
