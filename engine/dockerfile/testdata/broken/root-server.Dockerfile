FROM python:3.12-slim
WORKDIR /app
EXPOSE 8000
CMD ["python", "-m", "http.server"]
