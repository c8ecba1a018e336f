import type { Fault, Provider } from './faults.js';
import { validateLatency } from './latency.js';
import type { Latency } from './latency.js';
import type { RandomSource } from './random.js';
import { matcherSpecificity, matchesRequest } from './requestLog.js';
import type { FaultSource, RequestMatcher } from './requestLog.js';

/** A fault with a probability, for {@link Script.random}. */
export interface RandomFault {
  /** In [0, 1]. The probabilities of one script's list must add up to at most 1. */
  probability: number;
  fault: Fault;
}

/** A time window during which every matching request gets `fault`. */
export interface OutageWindow {
  /** Start, in ms after the script was installed, on the server clock (`options.now`). */
  fromMs: number;
  /** End (exclusive), same reference. Omit for an outage that never ends. */
  toMs?: number;
  /** Default: `{ kind: 'serverError', status: 503 }`. */
  fault?: Fault;
}

/**
 * What a route / model does, decided per request in this order:
 * 1. an active `outages` window → its fault (the sequence is not consumed);
 * 2. the next unconsumed `sequence` entry;
 * 3. one seeded draw against `random` (cumulative probabilities);
 * 4. `then` (default `ok`).
 *
 * After that, a fault that would start a normal answer (ok, slowFirstByte, streamCut, streamError) becomes the provider's context-length error when the request exceeds the model's `contextWindow`.
 */
export interface Script {
  sequence?: Fault[];
  random?: RandomFault[];
  outages?: OutageWindow[];
  then?: Fault;
  /** Delay before answering; overrides `options.latency`. */
  latency?: Latency;
}

/** A live handle on an installed script. */
export interface ScriptHandle {
  /** Sequence entries not consumed yet. */
  readonly remaining: number;
  /** How many requests this script has decided. */
  readonly hits: number;
  /** Uninstalls the script (requests fall back to less specific scripts or the default). */
  remove(): void;
}

/** The decision for one request. */
export interface FaultDecision {
  fault: Fault;
  source: FaultSource;
  latency: Latency | undefined;
}

interface Installed {
  matcher: RequestMatcher;
  script: Script;
  queue: Fault[];
  installedAt: number;
  order: number;
  hits: number;
}

const OUTAGE_DEFAULT: Fault = { kind: 'serverError', status: 503 };
const OK: Fault = { kind: 'ok' };

function validate(script: Script): void {
  let total = 0;
  script.random?.forEach((entry, i) => {
    if (!(entry.probability >= 0 && entry.probability <= 1)) {
      throw new RangeError(`script.random[${i}].probability must be within [0, 1], got ${entry.probability}`);
    }
    total += entry.probability;
  });
  if (total > 1 + 1e-9) throw new RangeError(`script.random probabilities add up to ${total}, more than 1`);
  validateLatency(script.latency, 'script.latency');
  script.outages?.forEach((window, i) => {
    if (!Number.isFinite(window.fromMs)) throw new RangeError(`script.outages[${i}].fromMs must be a finite number`);
    if (window.toMs !== undefined && !(window.toMs >= window.fromMs)) {
      throw new RangeError(`script.outages[${i}].toMs must be >= fromMs`);
    }
  });
}

/** The installed scripts of one server and the per-request decision. */
export class ScriptBook {
  #scripts: Installed[] = [];
  #order = 0;

  install(matcher: RequestMatcher, script: Script, nowMs: number): ScriptHandle {
    validate(script);
    const entry: Installed = {
      matcher: { ...matcher },
      script,
      queue: [...(script.sequence ?? [])],
      installedAt: nowMs,
      order: this.#order++,
      hits: 0,
    };
    this.#scripts.push(entry);
    const scripts = () => this.#scripts;
    const detach = (e: Installed) => {
      this.#scripts = this.#scripts.filter((s) => s !== e);
    };
    return {
      get remaining() {
        return entry.queue.length;
      },
      get hits() {
        return entry.hits;
      },
      remove() {
        if (scripts().includes(entry)) detach(entry);
      },
    };
  }

  clear(): void {
    this.#scripts = [];
  }

  /** The most specific matching script (latest installed among equals) decides; others are untouched. */
  decide(
    request: { route: string; provider: Provider; model: string | undefined },
    nowMs: number,
    random: RandomSource,
    defaultLatency: Latency | undefined,
  ): FaultDecision {
    let chosen: Installed | undefined;
    for (const entry of this.#scripts) {
      if (!matchesRequest(entry.matcher, request)) continue;
      if (
        !chosen ||
        matcherSpecificity(entry.matcher) > matcherSpecificity(chosen.matcher) ||
        (matcherSpecificity(entry.matcher) === matcherSpecificity(chosen.matcher) && entry.order > chosen.order)
      ) {
        chosen = entry;
      }
    }
    if (!chosen) return { fault: OK, source: 'default', latency: defaultLatency };
    chosen.hits += 1;
    const latency = chosen.script.latency ?? defaultLatency;

    const elapsed = nowMs - chosen.installedAt;
    const outage = chosen.script.outages?.find((w) => elapsed >= w.fromMs && (w.toMs === undefined || elapsed < w.toMs));
    if (outage) return { fault: outage.fault ?? OUTAGE_DEFAULT, source: 'outage', latency };

    const next = chosen.queue.shift();
    if (next) return { fault: next, source: 'sequence', latency };

    const randomFaults = chosen.script.random ?? [];
    if (randomFaults.length > 0) {
      const draw = random.next();
      let cumulative = 0;
      for (const entry of randomFaults) {
        cumulative += entry.probability;
        if (draw < cumulative) return { fault: entry.fault, source: 'random', latency };
      }
    }
    return { fault: chosen.script.then ?? OK, source: 'default', latency };
  }
}
