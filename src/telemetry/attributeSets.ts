import type { Attributes } from '@opentelemetry/api';

/**
 * Metric attribute sets built once per series and found again by the values that make them (up to
 * three), in nested maps: a lookup builds no key string and allocates nothing. The same series
 * gets the same object back — SeriesCounter sums by that identity, and the SDK sees one stable
 * object per series.
 *
 * Sets keyed by fewer values leave the rest of the parameters out (typed `void`). The maps are as
 * deep as the builder has parameters (its `length`): a set can only depend on the values its
 * builder takes, and a one-value set is one Map lookup, not three (the request path looks up six
 * sets per answered request).
 */
export class AttributeSets<A, B = void, C = void> {
  private readonly sets = new Map<unknown, unknown>();
  private readonly depth: number;

  constructor(private readonly build: (a: A, b: B, c: C) => Attributes) {
    this.depth = Math.min(Math.max(build.length, 1), 3);
  }

  get(a: A, b: B, c: C): Attributes {
    const { depth } = this;
    let level = this.sets;
    for (let i = 1; i < depth; i++) {
      const key = i === 1 ? a : b;
      let next = level.get(key) as Map<unknown, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const last = depth === 1 ? a : depth === 2 ? b : c;
    let attributes = level.get(last) as Attributes | undefined;
    if (attributes === undefined) {
      attributes = this.build(a, b, c);
      level.set(last, attributes);
    }
    return attributes;
  }
}
