# syntax=docker/dockerfile:1
# rollout-chatops: Slack Bolt app + Probot GitHub App in one Node process.
#   docker build -t rollout-chatops .
#   docker run --rm -p 3000:3000 -v rollout-chatops-data:/data \
#     -v "$PWD/rollout-chatops.yml:/config/rollout-chatops.yml:ro" --env-file .env rollout-chatops
# Node 20 (>= 20.19, package.json engines): the version CI tests, so the image runs what was tested.

# ---- build: all dependencies, compile src/ to dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Lockfile first so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled app only ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data ROLLOUT_CHATOPS_CONFIG=/config/rollout-chatops.yml
WORKDIR /app
COPY package.json package-lock.json ./
# No compiler, no test tools: --omit=dev keeps typescript, vitest and tsx out of the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# app.yml is Probot's GitHub App manifest (read from the working directory). The [l] glob makes the
# copy a no-op instead of a build failure while the file does not exist; package.json keeps the
# source list non-empty, which COPY requires.
COPY package.json app.ym[l] ./
# The embedded store (lowdb JSON file) lives in /data and has exactly one writer; the volume must be
# writable by the node user (uid 1000). /config holds the mounted config file, read-only.
RUN mkdir -p /data /config && chown node:node /data
VOLUME ["/data"]
# Files above stay owned by root, so the app cannot rewrite its own code.
USER node
EXPOSE 3000
# No curl in the slim image: Node's global fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node runs as PID 1 directly (no npm wrapper) so SIGTERM reaches the app's own drain-and-flush handler.
# The node flags of scripts/node-flags.json (a 4 MB young generation: see README, Performance).
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "dist/main.js"]
