/**
 * How the benchmark measures: calls timed one at a time, variants interleaved call by call (so
 * every variant sees the same machine state, GC and JIT included), repeated over several trials;
 * each trial gives a p50 / p99 per variant, and the report takes the median across trials.
 */

export interface Variant {
  name: string;
  call: () => Promise<unknown>;
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export interface TrialStats {
  p50: number;
  p99: number;
}

/** One trial: `warmup` untimed rounds, then `iterations` rounds of every variant in rotating order. */
export async function interleaved(variants: readonly Variant[], iterations: number, warmup: number): Promise<Map<string, TrialStats>> {
  for (let i = 0; i < warmup; i++) for (const v of variants) await v.call();
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(i + k) % variants.length]!;
      const t0 = performance.now();
      await v.call();
      samples.get(v.name)!.push(performance.now() - t0);
    }
  }
  return new Map([...samples].map(([name, xs]) => [name, { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) }]));
}

export interface Comparison {
  /** Median across trials of each variant's p50 / p99 (ms). */
  p50: Map<string, number>;
  p99: Map<string, number>;
  /** Median across trials of a per-trial difference or ratio against `baseline`. */
  added(name: string, which: 'p50' | 'p99'): number;
  ratio(name: string, which: 'p50' | 'p99'): number;
  /** Median across trials of any per-trial expression of the trial's stats. */
  perTrial(expression: (trial: Map<string, TrialStats>) => number): number;
}

export async function compare(
  variants: readonly Variant[],
  options: { baseline: string; trials: number; iterations: number; warmup: number; betweenTrials?: () => void },
): Promise<Comparison> {
  const trials: Array<Map<string, TrialStats>> = [];
  for (let t = 0; t < options.trials; t++) {
    trials.push(await interleaved(variants, options.iterations, t === 0 ? options.warmup : Math.ceil(options.warmup / 4)));
    options.betweenTrials?.();
  }
  const across = (f: (trial: Map<string, TrialStats>) => number) => median(trials.map(f));
  const stat = (trial: Map<string, TrialStats>, name: string, which: 'p50' | 'p99') => trial.get(name)![which];
  return {
    p50: new Map(variants.map((v) => [v.name, across((t) => stat(t, v.name, 'p50'))])),
    p99: new Map(variants.map((v) => [v.name, across((t) => stat(t, v.name, 'p99'))])),
    added: (name, which) => across((t) => stat(t, name, which) - stat(t, options.baseline, which)),
    ratio: (name, which) => across((t) => stat(t, name, which) / stat(t, options.baseline, which)),
    perTrial: across,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What an open-loop run reports. */
export interface OpenLoopResult {
  total: number;
  answered: number;
  p50: number;
  p99: number;
  /** From the first arrival to the last answer: far past the schedule when the contender fell behind. */
  elapsedMs: number;
}

/** Open-loop arrivals: `rate` per second for `durationMs`, each timed; waits for the last to finish. */
export async function openLoop(rate: number, durationMs: number, one: () => Promise<boolean>): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const latencies: number[] = [];
  let answered = 0;
  const running: Array<Promise<void>> = [];
  const startedAt = performance.now();
  for (let i = 0; i < total; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t0 = performance.now();
    running.push(
      one().then(
        (ok) => {
          latencies.push(performance.now() - t0);
          if (ok) answered++;
        },
        () => {
          latencies.push(performance.now() - t0);
        },
      ),
    );
  }
  await Promise.all(running);
  return { total, answered, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), elapsedMs: performance.now() - startedAt };
}
