import type { RetryBudgetConfig } from './types.js';
import type { BudgetReply, SharedChainState, SyncedBudget } from '../state/sharedChainState.js';
import type { Clock } from '../time/clock.js';
import { RetryBudget, type RetryBudgetHandle } from './retryBudget.js';

/**
 * A target's retry budget shared by every process of the chain: the same rule as RetryBudget
 * (retries ≤ ratio × requests + minRetriesPerSecond × window, over a sliding window), counted
 * over the fleet's requests and retries, so N workers together add at most `ratio` to what
 * the provider sees — not N × the floor.
 *
 * - Requests are counted locally and flushed to the store in one write per sync (never a
 *   store call per request); a withdrawal flushes what is pending and takes a retry in one
 *   atomic script, so two processes cannot spend the same last retry.
 * - The store unreachable or slow: the process's own RetryBudget (which always counts its
 *   requests) decides, as without Redis.
 * - `remaining()` (health, the `bulwark.retry_budget.remaining` gauge) is the fleet-wide
 *   allowance as of the last sync or withdrawal.
 */
export class SharedRetryBudget implements RetryBudgetHandle, SyncedBudget {
  readonly key: string;
  private readonly local: RetryBudget;
  private readonly clock: Clock;
  private readonly link: SharedChainState;
  private readonly ratio: number;
  private pending = 0;
  private readonly send: (now: number, addRequests: number) => Promise<BudgetReply | undefined>;
  private fleetAllowed: number | undefined;

  /**
   * `send`: where its withdrawals go — the target's retry budget by default; a hedging policy's
   * budget (`SharedChainState.hedgeBudget`) for hedges, the same rule with its own window.
   */
  constructor(
    key: string,
    config: RetryBudgetConfig,
    clock: Clock,
    link: SharedChainState,
    send: (now: number, addRequests: number) => Promise<BudgetReply | undefined> = (now, add) => link.budget(key, now, add, true),
  ) {
    this.send = send;
    this.key = key;
    this.local = new RetryBudget(config, clock);
    this.clock = clock;
    this.link = link;
    this.ratio = config.ratio;
  }

  recordRequest(): void {
    this.local.recordRequest();
    this.pending++;
  }

  async tryWithdraw(): Promise<boolean> {
    if (this.link.available()) {
      const add = this.pending;
      this.pending = 0;
      const reply = await this.send(Math.floor(this.clock.now()), add);
      if (reply) {
        this.fleetAllowed = reply.allowed;
        // Keep the local budget's history true, for when it has to decide alone.
        if (reply.granted) this.local.tryWithdraw();
        return reply.granted;
      }
      this.pending += add;
    } else {
      this.link.reportUnavailable('budget.withdraw');
    }
    return this.local.tryWithdraw();
  }

  remaining(): number {
    if (this.fleetAllowed === undefined || !this.link.available()) return this.local.remaining();
    return Math.max(0, Math.floor(this.fleetAllowed + this.ratio * this.pending));
  }

  takePending(): number {
    const n = this.pending;
    this.pending = 0;
    return n;
  }

  restorePending(count: number): void {
    this.pending += count;
  }

  applySynced(allowed: number): void {
    this.fleetAllowed = allowed;
  }
}
