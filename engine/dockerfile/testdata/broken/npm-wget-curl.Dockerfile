FROM node:20
RUN npm install
RUN curl -o a https://example.com/a && wget https://example.com/b
USER node
