FROM python:3.12-slim
RUN pip install --no-cache-dir flask
CO
CMD ["python", "app
EXPOSE 80
USER 1
