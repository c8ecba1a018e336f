/**
 * `bulwark/testing`: a wire-accurate, fault-injecting mock of the OpenAI and Anthropic APIs, for testing
 * failover configurations against the official clients over real HTTP.
 *
 * @example
 * import OpenAI from 'openai';
 * import { startFaultServer, fault } from 'bulwark/testing';
 *
 * await using server = await startFaultServer({ seed: 7 });
 * server.script({ route: 'primary' }, { sequence: [fault.rateLimit({ retryAfterMs: 250 }), fault.overloaded()] });
 * const openai = new OpenAI({ apiKey: 'test', baseURL: server.baseURL('openai', 'primary'), maxRetries: 0 });
 *
 * @packageDocumentation
 */
export { startFaultServer } from './faultServer.js';
export type { FaultServer, FaultServerOptions, ModelSpec } from './faultServer.js';
export { fault } from './faults.js';
export type {
  AuthenticationFault,
  BadRequestFault,
  ContentFilterFault,
  ContextLengthFault,
  Fault,
  FaultKind,
  FinishReason,
  HangFault,
  HttpErrorFault,
  MalformedJsonFault,
  ModelNotFoundFault,
  OkFault,
  OverloadedFault,
  PermissionDeniedFault,
  Provider,
  RateLimitFault,
  Reply,
  ResetFault,
  ServerErrorFault,
  SlowFirstByteFault,
  StreamCutFault,
  StreamErrorFault,
  ToolCallSpec,
  UnprocessableFault,
} from './faults.js';
export type { Script, ScriptHandle, RandomFault, OutageWindow } from './script.js';
export type { Latency } from './latency.js';
export type { RouteLimit, RouteLimitHandle } from './routeLimits.js';
export type { InputProblem, InputSummary, ReceivedAttachment } from './providerWire.js';
export type { RecordedRequest, RequestMatcher, FaultSource } from './requestLog.js';
export { estimateInputTokens, estimateTextTokens, CHARS_PER_TOKEN } from './tokens.js';
export { formatGoDuration, formatHttpDate, formatRfc3339 } from './rateLimitHeaders.js';
