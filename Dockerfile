# One image for every app; the Deployment picks the entry point (dist/apps/<app>/main.js).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY scripts/link-dist.js scripts/link-dist.js
RUN mkdir -p test bench && npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER 1000
ENTRYPOINT ["node"]
CMD ["dist/apps/gateway/main.js"]
