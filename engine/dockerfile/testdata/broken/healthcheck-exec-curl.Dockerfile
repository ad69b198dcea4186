FROM nginx:1.27
HEALTHCHECK --interval=10s CMD ["curl", "http://localhost/"]
