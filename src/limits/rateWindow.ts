/**
 * A target's rpm / tpm over an exact sliding window (a log of what was taken and when), in this
 * process: what a limit decides alone without a shared store, and the fallback when the store is
 * unreachable. The shared form is the same rule in one Lua script (state/redisScripts.ts, `limit`).
 *
 * Entries carry a request count (1 for a call, -1 for a refund) and tokens (the estimate when
 * taken, then the difference to the reported usage as a correction entry), so a correction is an
 * addition, like in the store. A window holds at most rpm call entries (more with corrections).
 */
export interface WindowLimits {
  rpm: number | undefined;
  tpm: number | undefined;
  windowMs: number;
}

/** Why a take was refused and when it might succeed. */
export interface WindowRefusal {
  kind: 'requests' | 'tokens';
  /** Until enough of the window has moved on (ms from now; at most the window). */
  retryInMs: number;
}

interface Entry {
  at: number;
  requests: number;
  tokens: number;
}

export class RateWindow {
  private entries: Entry[] = [];

  constructor(private readonly limits: WindowLimits) {}

  /** Takes one request and `tokens` when both fit (a request alone in an empty window always fits). */
  tryTake(now: number, tokens: number): WindowRefusal | undefined {
    this.prune(now);
    const { rpm, tpm } = this.limits;
    const used = this.used();
    if (rpm !== undefined && used.requests + 1 > rpm) return { kind: 'requests', retryInMs: this.freeIn(now, (e) => e.requests, rpm - 1) };
    // A request larger than the whole tpm still goes when nothing else is in the window: it could never fit otherwise.
    if (tpm !== undefined && used.tokens > 0 && used.tokens + tokens > tpm) return { kind: 'tokens', retryInMs: this.freeIn(now, (e) => e.tokens, Math.max(0, tpm - tokens)) };
    this.entries.push({ at: now, requests: 1, tokens });
    return undefined;
  }

  /** Adds a correction (tokens of the reported usage minus the estimate) or a refund (-1 request, -estimate). */
  add(now: number, requests: number, tokens: number): void {
    if (requests === 0 && tokens === 0) return;
    this.entries.push({ at: now, requests, tokens });
  }

  /** What is left in the window now (undefined for a limit not set). */
  remaining(now: number): { requests: number | undefined; tokens: number | undefined } {
    this.prune(now);
    const used = this.used();
    const { rpm, tpm } = this.limits;
    return { requests: rpm === undefined ? undefined : Math.max(0, rpm - used.requests), tokens: tpm === undefined ? undefined : Math.max(0, tpm - used.tokens) };
  }

  private used(): { requests: number; tokens: number } {
    let requests = 0;
    let tokens = 0;
    for (const e of this.entries) {
      requests += e.requests;
      tokens += e.tokens;
    }
    return { requests, tokens };
  }

  private prune(now: number): void {
    const from = now - this.limits.windowMs;
    let drop = 0;
    while (drop < this.entries.length && this.entries[drop]!.at <= from) drop++;
    if (drop > 0) this.entries.splice(0, drop);
  }

  /** Ms until the amount counted by `count` falls to `target` or below as entries leave the window. */
  private freeIn(now: number, count: (e: Entry) => number, target: number): number {
    let used = 0;
    for (const e of this.entries) used += count(e);
    for (const e of this.entries) {
      used -= count(e);
      if (used <= target) return Math.max(1, e.at + this.limits.windowMs - now);
    }
    return this.limits.windowMs;
  }
}
