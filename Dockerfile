# The Bulwark gateway: `bulwark gateway --config /etc/bulwark/gateway.yaml` (docs/gateway.md).
#
#   docker build -t bulwark/gateway:0.1.0 .
#   docker run -p 8787:8787 -v ./gateway/bulwark.config.yaml:/etc/bulwark/gateway.yaml:ro \
#     -e OPENAI_API_KEY -e ANTHROPIC_API_KEY -e REDIS_URL bulwark/gateway:0.1.0
#
# Stage 1 builds dist/ and packs the package exactly as `npm pack` publishes it; stage 2 installs that
# tarball with the provider clients, redis and the OpenTelemetry SDK at the versions the tests pin
# (scripts/gateway-image-packages.ts), and nothing else: no sources, no dev dependencies, no compiler.
# Keys come from the environment only (the config names them as env:NAME).

FROM node:24.21.0-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json LICENSE README.md ./
COPY src ./src
COPY scripts/gateway-image-packages.ts ./scripts/
RUN mkdir -p /out \
 && npm run build \
 && npm pack --ignore-scripts --pack-destination /out \
 && mv /out/bulwark-*.tgz /out/bulwark.tgz \
 && npx tsx scripts/gateway-image-packages.ts > /out/packages.txt

FROM node:24.21.0-slim
# A 16 MB young-generation semi-space instead of Node's default (the young generation grew to 128 MB under the
# request churn: RSS 294 MB with 24 MB of live heap); measured at the same CPU per request (docs/performance.md).
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY --from=build /out/ /tmp/bulwark/
RUN echo '{"name":"bulwark-gateway","private":true,"type":"module"}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/bulwark/bulwark.tgz $(cat /tmp/bulwark/packages.txt) \
 && npm cache clean --force \
 && rm -rf /tmp/bulwark
# The image's own user (uid 1000), not root.
USER node
EXPOSE 8787
# /readyz: the config is loaded and, when sharedState is configured, Redis answers. No curl in the image: Node's fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains in-flight requests and streams for up to server.drainTimeoutMs, then exits 0:
# give `docker stop` / compose's stop_grace_period at least that long.
ENTRYPOINT ["/app/node_modules/.bin/bulwark"]
CMD ["gateway", "--config", "/etc/bulwark/gateway.yaml", "--host", "0.0.0.0", "--port", "8787"]
