import type { Attributes } from '@opentelemetry/api';

/**
 * Metric attribute sets built once per series and found again by the values that make them (up to
 * three), in nested maps: a lookup builds no key string and allocates nothing. The same series
 * gets the same object back — SeriesCounter sums by that identity, and the SDK sees one stable
 * object per series.
 *
 * Sets keyed by fewer values leave the rest of the parameters out (typed `void`).
 */
export class AttributeSets<A, B = void, C = void> {
  private readonly sets = new Map<A, Map<B, Map<C, Attributes>>>();

  constructor(private readonly build: (a: A, b: B, c: C) => Attributes) {}

  get(a: A, b: B, c: C): Attributes {
    let byB = this.sets.get(a);
    if (byB === undefined) {
      byB = new Map();
      this.sets.set(a, byB);
    }
    let byC = byB.get(b);
    if (byC === undefined) {
      byC = new Map();
      byB.set(b, byC);
    }
    let attributes = byC.get(c);
    if (attributes === undefined) {
      attributes = this.build(a, b, c);
      byC.set(c, attributes);
    }
    return attributes;
  }
}
