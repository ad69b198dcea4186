FROM python:3.12-slim AS base
ENV PIP_NO_CACHE_DIR=1
FROM base
RUN pip install flask==3.0.3
FROM python:3.12-slim
RUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.3
RUN export PIP_NO_CACHE_DIR=1 && pip install requests==2.32.3
