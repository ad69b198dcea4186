FROM alpine:3.20
ENV PATH=$PAHT:/opt/bin
RUN echo $PAHT
FROM scratch
COPY $SRC /app
WORKDIR ${TARGETARCH}
