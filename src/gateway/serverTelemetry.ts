import type { IncomingMessage } from 'node:http';
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Histogram, type MeterProvider, type Span } from '@opentelemetry/api';
import { ATTR, BULWARK_VERSION, INSTRUMENTATION_SCOPE, METRIC, metricDefinition, SPAN } from '../telemetry/names.js';

/** One request's server span and the context the chain runs in (its request span becomes a child). */
export interface ServerSpan {
  readonly context: Context;
  /** Ends the span and records `http.server.request.duration`. */
  end(status: number, durationS: number): void;
}

/**
 * OpenTelemetry HTTP server conventions for the gateway: a SERVER span per request named
 * `{method} {route}`, child of the caller's trace when the request carries one (`traceparent`,
 * read by the globally registered propagator: W3C trace context with the Node SDK's defaults),
 * and the `http.server.request.duration` histogram. Through `@opentelemetry/api` only: without an
 * SDK it is all no-ops.
 */
export function createServerTelemetry() {
  const definition = metricDefinition(METRIC.HTTP_SERVER_REQUEST_DURATION);
  let bound: { provider: MeterProvider; histogram: Histogram } | undefined;
  // The metrics API has no proxy meter: re-bind when the application installs its provider later.
  const histogram = (): Histogram => {
    const provider = metrics.getMeterProvider();
    if (bound?.provider !== provider) {
      const meter = provider.getMeter(INSTRUMENTATION_SCOPE, BULWARK_VERSION);
      bound = {
        provider,
        histogram: meter.createHistogram(definition.name, { unit: definition.unit, description: definition.description, advice: { explicitBucketBoundaries: [...(definition.buckets ?? [])] } }),
      };
    }
    return bound.histogram;
  };

  return {
    start(req: IncomingMessage, route: string | undefined, scheme: 'http' | 'https'): ServerSpan {
      const method = req.method ?? 'GET';
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const path = (req.url ?? '/').split('?')[0]!;
      const span: Span = trace.getTracer(INSTRUMENTATION_SCOPE, BULWARK_VERSION).startSpan(
        SPAN.server(method, route),
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR.HTTP_REQUEST_METHOD]: method,
            [ATTR.URL_SCHEME]: scheme,
            [ATTR.URL_PATH]: path,
            ...(route !== undefined && { [ATTR.HTTP_ROUTE]: route }),
          },
        },
        parent,
      );
      return {
        context: trace.setSpan(parent, span),
        end(status, durationS) {
          const attributes = {
            [ATTR.HTTP_REQUEST_METHOD]: method,
            [ATTR.URL_SCHEME]: scheme,
            [ATTR.HTTP_RESPONSE_STATUS_CODE]: status,
            ...(route !== undefined && { [ATTR.HTTP_ROUTE]: route }),
            // Semantic conventions: a server error's type is its status code.
            ...(status >= 500 && { [ATTR.ERROR_TYPE]: String(status) }),
          };
          span.setAttribute(ATTR.HTTP_RESPONSE_STATUS_CODE, status);
          if (status >= 500) {
            span.setAttribute(ATTR.ERROR_TYPE, String(status));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
          histogram().record(durationS, attributes);
        },
      };
    },
    /** Runs `fn` in the request's context. */
    run<T>(span: ServerSpan, fn: () => T): T {
      return context.with(span.context, fn);
    },
  };
}

export type ServerTelemetry = ReturnType<typeof createServerTelemetry>;
