FROM postgres:16.4
ENV POSTGRES_DB=app
COPY --chown=postgres:postgres init/*.sql /docker-entrypoint-initdb.d/
VOLUME ["/var/lib/postgresql/data"]
HEALTHCHECK --interval=10s --timeout=5s --retries=5 CMD ["pg_isready", "-U", "postgres"]
EXPOSE 5432
USER postgres
