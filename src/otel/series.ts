/** The identity of one metric series as the exporter wrappers of `bulwark/otel` see it. */
import type { Attributes } from '@opentelemetry/api';

/** `scope` (`name@version`), instrument name and attributes (in key order) as one string. */
export function seriesKey(scope: string, instrument: string, attributes: Attributes): string {
  const attrs = Object.keys(attributes)
    .sort()
    .map((k) => [k, attributes[k]]);
  return `${scope}\u0000${instrument}\u0000${JSON.stringify(attrs)}`;
}
