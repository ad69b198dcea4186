RUN echo hello
COPY . /app
