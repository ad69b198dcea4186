FROM debian:12-slim
ONBUILD RUN apt-get install curl
ONBUILD ADD app.py /app/
ONBUILD COPY --frm=x a b
