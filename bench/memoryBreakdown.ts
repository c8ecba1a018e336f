/**
 * Where a process's memory goes, after a forced GC: RSS against V8's heap (reserved vs in use),
 * memory outside the heap (external, array buffers), V8's own allocations (malloced), and each heap
 * space — new space (the young generation, which grows under a high allocation rate), old space,
 * code space. RSS minus all of these is the allocator's and Node's own baseline.
 */
import v8 from 'node:v8';

const MB = 2 ** 20;

export interface MemoryBreakdown {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  mallocedMb: number;
  /** Per V8 heap space: reserved size / used, MB. */
  spaces: Record<string, { sizeMb: number; usedMb: number }>;
}

/** Call after a forced GC (`--expose-gc`), so "used" is what is alive. */
export function memoryBreakdown(): MemoryBreakdown {
  const m = process.memoryUsage();
  const spaces: MemoryBreakdown['spaces'] = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = { sizeMb: s.space_size / MB, usedMb: s.space_used_size / MB };
  return {
    rssMb: m.rss / MB,
    heapTotalMb: m.heapTotal / MB,
    heapUsedMb: m.heapUsed / MB,
    externalMb: m.external / MB,
    arrayBuffersMb: m.arrayBuffers / MB,
    mallocedMb: v8.getHeapStatistics().malloced_memory / MB,
    spaces,
  };
}

/** One line for a report: `RSS 306 MB = heap 160 MB reserved (13.1 used; new space 64, old 70, code 4.1) + external 3.2 (array buffers 0.6) + …`. */
export function describeBreakdown(b: MemoryBreakdown): string {
  const space = (name: string) => b.spaces[name]?.sizeMb ?? 0;
  const f = (n: number) => (n >= 10 ? n.toFixed(0) : n.toFixed(1));
  const rest = b.rssMb - b.heapTotalMb - b.externalMb - b.mallocedMb;
  return (
    `RSS ${f(b.rssMb)} MB = V8 heap ${f(b.heapTotalMb)} MB reserved (${f(b.heapUsedMb)} in use; new space ${f(space('new_space'))}, ` +
    `old space ${f(space('old_space'))}, code space ${f(space('code_space'))}, large objects ${f(space('large_object_space'))}) + external ${f(b.externalMb)} MB ` +
    `(array buffers ${f(b.arrayBuffersMb)}) + V8 malloced ${f(b.mallocedMb)} MB + the rest (Node, libraries' native memory, the allocator) ${f(rest)} MB`
  );
}
