FROM alpine:3.20
WORKDIR /app
COPY secrets.env ./
COPY node_modules/x ./x
COPY src ./src
