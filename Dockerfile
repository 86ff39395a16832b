# syntax=docker/dockerfile:1
# Alidade: one image, three roles (ALIDADE_ROLE=api | worker | all).
# Build: docker build -t alidade .
# Run:   docker run -e DATABASE_URL=... -e REDIS_URL=... -e JWT_SECRET=... -p 3000:3000 alidade
# docker-compose.yml runs Postgres, Redis, an API and a worker from it.

# Node 22 is the LTS line (Node 20 reached its end of life); package.json's engines says what the code runs on.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything the build reads (sources, the dashboard, task plugins); .dockerignore keeps out node_modules, data, .env.
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim AS runtime
# tini is PID 1: it forwards SIGTERM to Alidade and reaps the job processes that end up re-parented to it.
# Workers run users' workflows: bash and python3 are what MLproject commands expect. curl serves the health check.
# The job sandbox: bubblewrap, socat (the tracking forward), setpriv and nsenter (util-linux), kill (procps).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini python3 python-is-python3 curl ca-certificates bubblewrap socat util-linux procps \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group alidade
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
COPY --from=build /app/task-plugins ./task-plugins
# The heap limits of `npm start` (README Performance, Memory): V8 grows its old generation lazily otherwise.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=4" \
    ALIDADE_ROLE=all \
    PORT=3000 \
    DATA_DIR=/var/lib/alidade
RUN mkdir -p /var/lib/alidade && chown alidade:alidade /var/lib/alidade && chmod 0700 /var/lib/alidade
VOLUME /var/lib/alidade
# The API roles run as this user. A worker that sandboxes jobs (a uid per job, namespaces, cgroups) runs as root:
# docker-compose.yml sets `user: root` and the privileges bubblewrap needs for that service only.
USER alidade
EXPOSE 3000
# The API roles answer /health; a worker has no HTTP, so its health is its process.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD [ "$ALIDADE_ROLE" = "worker" ] || curl -fsS "http://127.0.0.1:${PORT}/health" || exit 1
# Alidade stops within 20 s of SIGTERM (running jobs get 10 s); give `docker stop` a little more (-t 30).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
