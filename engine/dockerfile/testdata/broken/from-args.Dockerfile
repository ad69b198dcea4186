FROM alpine:3.20 AS
FROM a b c
