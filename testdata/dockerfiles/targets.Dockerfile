FROM node:20.17-slim AS base
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --frozen-lockfile

FROM base AS test
COPY . .
RUN yarn test

FROM base AS release
COPY . .
RUN yarn build && yarn cache clean
USER node
CMD ["node", "dist/index.js"]
