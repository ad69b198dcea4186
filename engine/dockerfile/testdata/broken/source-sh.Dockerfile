FROM python:3.12-slim
RUN python -m venv /venv && source /venv/bin/activate && pip install --no-cache-dir flask==3.0.3
