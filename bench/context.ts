/** What every benchmark suite shares: the fault server, the gateway, the sizes, the request. */
import OpenAI from 'openai';
import type { ChatRequest } from '../src/index.js';
import type { FaultServer } from '../src/testing/index.js';
import type { LiteLLMPeer } from './litellmPeer.js';
import type { PortkeyGateway } from './portkeyGateway.js';

export interface Sizes {
  trials: number;
  /** Timed calls per variant per trial (network suites). */
  iterations: number;
  warmup: number;
  /** In-process suites (no network): timed calls per variant per trial. */
  inProcessIterations: number;
  /** Amplification: arrivals per second and how long the outage lasts. */
  arrivalsPerSec: number;
  outageMs: number;
  throughputRequests: number;
  memoryRequests: number;
  /** Peers in another language runtime (LiteLLM): far slower per call, so fewer calls. */
  peerTrials: number;
  peerIterations: number;
  peerWarmup: number;
  peerThroughputRequests: number;
  /** Amplification: arrivals per second for peers in another process. */
  peerArrivalsPerSec: number;
  /** Requests under the CPU profiler, per telemetry mode. */
  profileRequests: number;
  /** Gateway: open-loop rates tried in turn, how long each step lasts, open-stream counts in turn. */
  gatewayRates: number[];
  gatewayStepMs: number;
  gatewayStreams: number[];
  /** Rate limits: each pool member's rpm (the run sends 1.5× that) and how long the run lasts (under the limits' minute). */
  rateLimitRpm: number;
  rateLimitDurationMs: number;
  /** Tail: arrivals per second, requests per variant, the first of them untimed. */
  tailRate: number;
  tailRequests: number;
  tailWarmup: number;
}

export const FULL: Sizes = {
  trials: 7,
  iterations: 1500,
  warmup: 500,
  inProcessIterations: 20_000,
  arrivalsPerSec: 50,
  outageMs: 40_000,
  throughputRequests: 200_000,
  memoryRequests: 1_000_000,
  peerTrials: 5,
  peerIterations: 300,
  peerWarmup: 100,
  peerThroughputRequests: 5000,
  peerArrivalsPerSec: 10,
  profileRequests: 200_000,
  gatewayRates: [250, 500, 1000, 2000, 4000],
  gatewayStepMs: 3000,
  gatewayStreams: [0, 250, 500, 1000],
  rateLimitRpm: 100,
  rateLimitDurationMs: 10_000,
  tailRate: 20,
  tailRequests: 800,
  tailWarmup: 150,
};

export const SMOKE: Sizes = {
  trials: 1,
  iterations: 30,
  warmup: 10,
  inProcessIterations: 500,
  arrivalsPerSec: 20,
  outageMs: 1000,
  throughputRequests: 2000,
  memoryRequests: 20_000,
  peerTrials: 1,
  peerIterations: 20,
  peerWarmup: 5,
  peerThroughputRequests: 200,
  peerArrivalsPerSec: 10,
  profileRequests: 2000,
  gatewayRates: [50, 100],
  gatewayStepMs: 300,
  gatewayStreams: [0, 10],
  rateLimitRpm: 10,
  rateLimitDurationMs: 1000,
  tailRate: 20,
  tailRequests: 40,
  tailWarmup: 10,
};

export interface BenchContext {
  smoke: boolean;
  sizes: Sizes;
  server: FaultServer;
  /** Undefined when the gateway could not start (the error is reported instead). */
  gateway: PortkeyGateway | undefined;
  gatewayError: string | undefined;
  /** LiteLLM, when asked for with `--peers litellm` and installable (otherwise the reason it is not). */
  litellm: LiteLLMPeer | undefined;
  litellmError: string | undefined;
  log(line: string): void;
}

export const PROMPT = 'Say hello in five words.';
export const MAX_TOKENS = 64;

/** The request every suite sends, in Bulwark's shape … */
export const REQUEST: ChatRequest = { messages: [{ role: 'user', content: PROMPT }], maxTokens: MAX_TOKENS };
/** … and in the official client's. */
export const PARAMS = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: PROMPT }], max_tokens: MAX_TOKENS };

/** An official OpenAI client for one route of the fault server, its own retries off. */
export function clientFor(ctx: BenchContext, route: string, extra: { baseURL?: string; defaultHeaders?: Record<string, string> } = {}): OpenAI {
  return new OpenAI({ apiKey: 'bench-key', baseURL: extra.baseURL ?? ctx.server.baseURL('openai', route), maxRetries: 0, ...(extra.defaultHeaders && { defaultHeaders: extra.defaultHeaders }) });
}

/** `custom_host` for the gateway's openai provider: the route's `/v1` base. */
export const customHost = (ctx: BenchContext, route: string) => ctx.server.baseURL('openai', route);
