FROM redis:7.4-alpine
COPY redis.conf /usr/local/etc/redis/redis.conf
VOLUME /data
EXPOSE 6379/tcp
USER redis
CMD [ "redis-server", "/usr/local/etc/redis/redis.conf" ]
