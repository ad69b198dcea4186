FROM python:3.12-slim
RUN cd /opt && pip install flask
RUN python -m pip install requests
USER 1000
