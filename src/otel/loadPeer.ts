/** The optional peer dependencies `startTelemetry` imports (listed in package.json's peerDependenciesMeta). */
export const TELEMETRY_PEER_DEPENDENCIES = [
  '@opentelemetry/sdk-node',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/resources',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-metrics-otlp-proto',
] as const;

export type PeerDependency = (typeof TELEMETRY_PEER_DEPENDENCIES)[number];

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
      throw new Error(
        `bulwark/otel: startTelemetry() needs the optional peer dependency "${name}", which is not installed. ` +
          `Install the OpenTelemetry SDK packages it uses: npm install ${TELEMETRY_PEER_DEPENDENCIES.join(' ')}`,
        { cause: error },
      );
    }
    throw error;
  }
}
