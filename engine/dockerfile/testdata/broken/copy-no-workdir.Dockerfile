FROM python:3.12-slim
COPY . .
COPY requirements.txt ./
