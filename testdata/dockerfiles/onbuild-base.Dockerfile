FROM python:3.12-slim
WORKDIR /usr/src/app
ONBUILD COPY requirements.txt /usr/src/app/
ONBUILD RUN pip install --no-cache-dir -r requirements.txt
ONBUILD COPY . /usr/src/app
RUN useradd -m runner
USER runner
CMD ["python", "main.py"]
