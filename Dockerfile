# Alidade: one image, three roles (ALIDADE_ROLE=api | worker | all).
# Build: docker build -t alidade .   Run: docker run -e DATABASE_URL=... -e REDIS_URL=... -e JWT_SECRET=... alidade

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY ui ./ui
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
# Workers run users' workflows: bash and python3 are what MLproject commands expect. curl serves the health check.
# The job sandbox: bubblewrap, socat (the tracking forward), setpriv and prlimit (util-linux), kill (procps).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python-is-python3 curl ca-certificates bubblewrap socat util-linux procps \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 alidade
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY task-plugins ./task-plugins
ENV NODE_ENV=production \
    ALIDADE_ROLE=all \
    PORT=3000 \
    DATA_DIR=/var/lib/alidade
RUN mkdir -p /var/lib/alidade && chown alidade:alidade /var/lib/alidade && chmod 0700 /var/lib/alidade
# The API roles run as this user. A worker that sandboxes jobs (a uid per job, cgroups) runs as root: docker-compose.yml.
USER alidade
EXPOSE 3000
# The API roles answer /health; a worker has no HTTP, so its health is its process.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD [ "$ALIDADE_ROLE" = "worker" ] || curl -fsS "http://127.0.0.1:${PORT}/health" || exit 1
CMD ["node", "dist/main.js"]
