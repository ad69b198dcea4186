FROM nginx:1.27
HEALTHCHECK CMD curl http://localhost/ || exit 1
