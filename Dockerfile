# The one runtime image of orchestrator: `orchestrator probe`, `orchestrator app`
# and `orchestrator zk-sync` are subcommands of the same CLI, so every service
# runs this image with its own arguments (see the manifests in dist/<env>/).
#
# Both stages use the same pinned Debian 12 (bookworm) Node 20 image: the
# uWebSockets.js native binary needs glibc 2.36, so neither alpine (musl) nor
# an older Debian will do. Built for linux/amd64 and linux/arm64 by CI
# (.github/workflows/ci.yaml); see docs/ci.md to build it locally.

# ---- build: compile the runtime and keep only the production dependencies ----
FROM node:20.19.5-bookworm-slim AS build
WORKDIR /app

# Dependencies first, from the lock file only, so this layer stays cached until
# package.json or package-lock.json change. The optional native extras of the
# WebSocket stack (bufferutil, utf-8-validate) may fail to compile where no
# prebuilt binary exists (arm64); npm skips them and the JS fallback is used.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# The sources (.dockerignore keeps out tests, dist/, docs and local builds);
# compile runtime/ to build/ with tsconfig.build.json, then drop the dev
# dependencies (TypeScript, cdk8s-cli, tap, ...) from node_modules. The build
# also bundles `orchestrator probe` into build/runtime/probe/command.js
# (runtime/probe/bundle/build.ts: one minified file that loads only the parts
# of undici and prom-client the probe uses, for its resident memory); the CLI
# loads it for the probe subcommand, so the entry point stays the same.
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: node, the compiled CLI and its production dependencies ----
FROM node:20.19.5-bookworm-slim AS runtime

LABEL org.opencontainers.image.title="orchestrator" \
      org.opencontainers.image.description="Run, watch and migrate a Mesos / Marathon / ZooKeeper stack on Kubernetes: probe, app and zk-sync in one image" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/node:20.19.5-bookworm-slim"

# Debian security fixes published since the base image was built, so the Trivy
# gate in CI (HIGH/CRITICAL with a fix available) sees a patched system; then
# the package managers, which the image never runs (it starts `node` directly)
# and whose bundled dependencies would only add findings.
RUN apt-get update \
 && apt-get upgrade -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /opt/yarn-v* /usr/local/bin/yarn /usr/local/bin/yarnpkg

ENV NODE_ENV=production
WORKDIR /app

# Owned by root and read-only to the service user: the process cannot rewrite
# its own code. package.json is read at runtime for `--version`.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build ./build

# The `node` user of the base image (uid/gid 1000), numeric so that Kubernetes
# can verify runAsNonRoot without resolving names.
USER 1000:1000

# No HEALTHCHECK: Kubernetes ignores it. Liveness and readiness are the
# probes declared in the manifests.

ENTRYPOINT ["node", "/app/build/runtime/cli.js"]
CMD ["--help"]
