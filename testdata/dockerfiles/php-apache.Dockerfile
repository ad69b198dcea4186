FROM php:8.3-apache
RUN apt-get update && apt-get install -y --no-install-recommends libzip-dev=1.7.3-1+b1 \
    && docker-php-ext-install zip pdo_mysql \
    && rm -rf /var/lib/apt/lists/*
COPY --from=composer:2.7 /usr/bin/composer /usr/bin/composer
WORKDIR /var/www/html
COPY composer.json composer.lock ./
RUN composer install --no-dev --no-scripts --no-autoloader
COPY . .
RUN composer dump-autoload --optimize && chown -R www-data:www-data /var/www/html
USER www-data
EXPOSE 80
