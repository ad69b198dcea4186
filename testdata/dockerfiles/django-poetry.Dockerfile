FROM python:3.11-slim AS builder
RUN pip install --no-cache-dir poetry==1.8.3
WORKDIR /code
COPY pyproject.toml poetry.lock ./
RUN poetry export -f requirements.txt --output requirements.txt --without-hashes

FROM python:3.11-slim
WORKDIR /code
COPY --from=builder /code/requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN python manage.py collectstatic --noinput
RUN adduser --disabled-password --gecos "" django
USER django
EXPOSE 8000
CMD ["gunicorn", "mysite.wsgi:application", "--bind", "0.0.0.0:8000"]
