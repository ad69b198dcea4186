FROM python:3.12-slim
ENTRYPOINT python -m app
CMD python app.py --port 8000 && echo done
USER 1
