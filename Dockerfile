# syntax=docker/dockerfile:1
# The MCM server image (compose.yaml builds it). docs/operations.md, "Docker Compose".
#
# Node 24 is the base image's own `node`. On other machines the project pins Node 24 through the
# `node` devDependency (bin/mcm runs node_modules/.bin/node); here that is not needed, so only
# the production dependencies are installed and the server is started with the image's node
# directly: `node adapters/cli/main.ts server` (type stripping, no build step, DESIGN §3).
FROM node:24-slim

ENV NODE_ENV=production
# Large buffers in their own mappings, given back on free (see bin/mcm, issue 14).
ENV MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /opt/mcm

# Dependencies first, so code changes do not re-run npm. --omit=dev leaves out the pinned Node
# (the `node` package), TypeScript and the test tools; bcrypt ships prebuilt binaries (no compiler).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY core ./core
COPY projections ./projections
COPY adapters ./adapters
COPY docs ./docs
COPY mcm.example.yaml README.md ./

# The data dir of the compose config (deploy/mcm.compose.yaml); a volume is mounted over it.
RUN mkdir -p /var/lib/mcm /var/lib/mcm-broker && chmod 0700 /var/lib/mcm

EXPOSE 8080
# `docker compose exec mcm node adapters/cli/main.ts doctor` and
# `docker compose run --rm mcm backup create --output /var/lib/mcm/backup.tar` use the same entry.
ENTRYPOINT ["node", "adapters/cli/main.ts"]
CMD ["server"]
