# syntax=docker/dockerfile:1
# Portcullis's image: docker build -t portcullis . (from the repository root; README: Docker).
#
# Node 22, an LTS line supported until April 2027 (Node 20's support ended in April 2026), on
# Debian 12 slim. Pin the base by digest for a release: the tag below moves with every Node patch.
#   docker buildx imagetools inspect node:22-bookworm-slim      # prints "Digest: sha256:..."
#   docker build --build-arg NODE_IMAGE=node:22-bookworm-slim@sha256:<that digest> -t portcullis .
# Every stage uses the same base, so one argument pins all three.
ARG NODE_IMAGE=node:22-bookworm-slim

# Compiles TypeScript to dist/ (the service, its migrations, the example resource service) and
# packages/verifier/dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The verifier package (packages/verifier) is an npm workspace the server imports its scope
# matcher from: the install below needs its package.json to link it.
COPY packages/verifier/package.json ./packages/verifier/
# Every dependency is unpacked (tsc needs the type packages), but --ignore-scripts runs no install
# script: the benchmark-only argon2 binding (a devDependency, bench/argon2.ts) is never built, so
# the build needs no compiler. Nothing built here reaches the runtime stage but dist/ and the
# verifier package's dist/.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY packages/verifier/tsconfig.json packages/verifier/tsconfig.cjs.json ./packages/verifier/
COPY packages/verifier/scripts ./packages/verifier/scripts
COPY packages/verifier/src ./packages/verifier/src
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
COPY examples/resource-service ./examples/resource-service
RUN npm run build

# The runtime dependencies only, with no install script run: none is needed (the service's
# argon2, @node-rs/argon2, ships its binary as a per-platform optional package), and the one a
# runtime dependency does carry (@scarf/scarf, under swagger-ui-dist) would report installs to
# a third party from the build. The verifier workspace is linked; the build stage built it (its
# dist/ is copied below).
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/verifier/package.json ./packages/verifier/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
# The service's own user, uid and gid 10001 (not the base image's "node", uid 1000, which other
# images share). It owns nothing in the image, so the running service cannot change its code.
# A mounted key file must be readable by it: mode 0440 with group 10001 (Kubernetes: fsGroup
# 10001), or owned by 10001; a root-owned 0600 file is refused with EACCES (README: Docker).
ARG UID=10001
RUN groupadd --system --gid ${UID} portcullis \
 && useradd --system --uid ${UID} --gid portcullis --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin portcullis
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
# dist/migrations: `portcullis migrate` (the CLI is the entry point) applies them from the image.
COPY --from=build /app/dist ./dist
# node_modules/@portcullis/verifier links here: the server's scope matcher and subject-type rule.
COPY --from=build /app/packages/verifier/package.json ./packages/verifier/package.json
COPY --from=build /app/packages/verifier/dist ./packages/verifier/dist
COPY package.json ./
# Numeric, so Kubernetes' runAsNonRoot can check it without a runAsUser.
USER ${UID}:${UID}
EXPOSE 8080
# Follows PORT as set when the container runs. Slim images have no curl: Node's fetch asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
