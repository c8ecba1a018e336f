import type { Attributes, Counter } from '@opentelemetry/api';

/**
 * A counter of the request path: its increments are summed per attribute set and handed to the
 * SDK once per series at collection (`flush()`, called from the observer's batch observable
 * callback, which the SDK runs before it reads its storages).
 *
 * Why: the SDK sorts and serialises the attribute set of every `add` to find its series — the
 * largest single cost of telemetry per request. The observer builds each series' attribute object
 * once, so that object is the key here (a Map lookup by identity, no hashing), and the SDK hashes
 * each series once per collection instead of once per event. The counts and series are the same;
 * only the moment they reach the SDK changes, and it is always before the SDK reads them.
 *
 * Keys must be attribute objects built once per series (memoised), or the map would grow with
 * every event until the next collection; `MAX_PENDING` bounds it all the same.
 */
export class SeriesCounter {
  private readonly pending = new Map<Attributes, number>();
  private direct = false;

  constructor(readonly counter: Counter) {}

  add(value: number, attributes: Attributes): void {
    if (this.direct) {
      this.counter.add(value, attributes);
      return;
    }
    this.pending.set(attributes, (this.pending.get(attributes) ?? 0) + value);
    if (this.pending.size > MAX_PENDING) this.flush();
  }

  /** Creates the series at 0 now (pre-created series exist before their first event). */
  precreate(attributes: Attributes): void {
    this.counter.add(0, attributes);
  }

  /** Hands the sums to the SDK: one add per series. */
  flush(): void {
    for (const [attributes, value] of this.pending) this.counter.add(value, attributes);
    this.pending.clear();
  }

  /** No more collections will flush (the observer closed or re-bound): flush, then add directly. */
  detach(): void {
    this.flush();
    this.direct = true;
  }
}

/** More distinct attribute objects than any chain's series: a caller passing fresh objects. */
const MAX_PENDING = 10_000;
