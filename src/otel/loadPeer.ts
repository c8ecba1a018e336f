/** The optional peer dependencies `startTelemetry` always imports (listed in package.json's peerDependenciesMeta). */
export const TELEMETRY_PEER_DEPENDENCIES = [
  '@opentelemetry/sdk-node',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/resources',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-metrics-otlp-proto',
] as const;

/**
 * The optional peer dependencies `startTelemetry` imports only for a non-default OTLP protocol
 * (`OTEL_EXPORTER_OTLP_PROTOCOL` or the `protocol` option): `grpc` needs the two gRPC exporters and
 * `@grpc/grpc-js` (for explicit headers), `http/protobuf` traces the proto trace exporter, `http/json`
 * metrics the JSON metric exporter and, for exemplars, the OTLP exporter base and transformer it is built from.
 */
export const PROTOCOL_PEER_DEPENDENCIES = {
  grpc: ['@opentelemetry/exporter-trace-otlp-grpc', '@opentelemetry/exporter-metrics-otlp-grpc', '@grpc/grpc-js'],
  'http/protobuf': ['@opentelemetry/exporter-trace-otlp-proto'],
  'http/json': ['@opentelemetry/exporter-metrics-otlp-http', '@opentelemetry/otlp-exporter-base', '@opentelemetry/otlp-transformer'],
} as const;

export type PeerDependency =
  | (typeof TELEMETRY_PEER_DEPENDENCIES)[number]
  | (typeof PROTOCOL_PEER_DEPENDENCIES)[keyof typeof PROTOCOL_PEER_DEPENDENCIES][number];

/**
 * Imports an optional peer dependency; when it is not installed, throws an error that names it
 * and the install command instead of Node's bare ERR_MODULE_NOT_FOUND.
 */
export async function loadPeer<T>(name: PeerDependency, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : '';
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(message)) {
      const core = (TELEMETRY_PEER_DEPENDENCIES as readonly string[]).includes(name);
      const protocol = Object.entries(PROTOCOL_PEER_DEPENDENCIES).find(([, names]) => (names as readonly string[]).includes(name));
      throw new Error(
        `bulwark/otel: startTelemetry() needs the optional peer dependency "${name}", which is not installed. ` +
          (core || !protocol
            ? `Install the OpenTelemetry SDK packages it uses: npm install ${TELEMETRY_PEER_DEPENDENCIES.join(' ')}`
            : `The OTLP protocol ${protocol[0]} needs: npm install ${protocol[1].join(' ')}`),
        { cause: error },
      );
    }
    throw error;
  }
}
