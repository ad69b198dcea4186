FROM python:3.12-slim
EXPOSE 5000 # flask port
COPY app.py /app/ # the app
ENV MODE=prod # or dev
LABEL color="#fff"
