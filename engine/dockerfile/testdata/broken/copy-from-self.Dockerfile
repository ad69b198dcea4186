FROM alpine:3.20 AS build
WORKDIR /src
COPY --from=build /src/a /src/b
COPY --from=0 /src/a /src/c
