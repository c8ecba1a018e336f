/**
 * Where a process's memory goes: RSS split into the pages mapped from files (Node's binary and its
 * shared libraries) and anonymous memory; of the latter, V8's heap (committed pages, reserved vs in
 * use, per space — new space is the young generation, which grows when objects survive scavenges),
 * memory outside the heap (external, array buffers), V8's own allocations (malloced), and the rest:
 * heap pages V8 released from its spaces but keeps mapped for reuse, and the allocator's arenas.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

const MB = 2 ** 20;

export interface MemoryBreakdown {
  rssMb: number;
  /** Resident pages mapped from files (Node's binary, shared libraries); undefined off Linux. */
  fileBackedMb: number | undefined;
  heapTotalMb: number;
  /** Of heapTotal, the pages actually committed (resident or not yet touched: V8's physical size). */
  heapPhysicalMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  mallocedMb: number;
  /** Per V8 heap space: reserved size / committed (physical) / used, MB. */
  spaces: Record<string, { sizeMb: number; physicalMb: number; usedMb: number }>;
}

/** Resident memory of file-backed mappings, from /proc/self/smaps (Linux); undefined where it cannot be read. */
function fileBackedResidentMb(): number | undefined {
  let smaps: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  let kb = 0;
  let fileBacked = false;
  for (const line of smaps.split('\n')) {
    // A mapping's header: "start-end perms offset dev inode [path]"; its fields follow, one per line.
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) fileBacked = header[1] !== '0' && header[2]!.startsWith('/');
    else if (fileBacked && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return kb / 1024;
}

/** Call right after a full GC, so "used" is what is alive. */
export function memoryBreakdown(): MemoryBreakdown {
  const m = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const spaces: MemoryBreakdown['spaces'] = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    spaces[s.space_name] = { sizeMb: s.space_size / MB, physicalMb: s.physical_space_size / MB, usedMb: s.space_used_size / MB };
  }
  return {
    rssMb: m.rss / MB,
    fileBackedMb: fileBackedResidentMb(),
    heapTotalMb: m.heapTotal / MB,
    heapPhysicalMb: heap.total_physical_size / MB,
    heapUsedMb: m.heapUsed / MB,
    externalMb: m.external / MB,
    arrayBuffersMb: m.arrayBuffers / MB,
    mallocedMb: heap.malloced_memory / MB,
    spaces,
  };
}

/** RSS minus everything named: pages V8 keeps mapped outside its spaces, the allocator's arenas, Node's own native memory. */
export function unaccountedMb(b: MemoryBreakdown): number {
  return b.rssMb - (b.fileBackedMb ?? 0) - b.heapPhysicalMb - b.externalMb - b.mallocedMb;
}

/** One line for a report: `RSS 306 MB = Node's binary and libraries 45 MB + V8 heap 160 MB committed (…) + …`. */
export function describeBreakdown(b: MemoryBreakdown): string {
  const space = (name: string) => b.spaces[name]?.physicalMb ?? 0;
  const f = (n: number) => (Math.abs(n) >= 10 ? n.toFixed(0) : n.toFixed(1));
  const files = b.fileBackedMb === undefined ? '' : `Node's binary and libraries (file-backed pages) ${f(b.fileBackedMb)} MB + `;
  return (
    `RSS ${f(b.rssMb)} MB = ${files}V8 heap ${f(b.heapPhysicalMb)} MB committed (${f(b.heapUsedMb)} in use; new space ${f(space('new_space'))}, ` +
    `old space ${f(space('old_space'))}, code space ${f(space('code_space'))}, large objects ${f(space('large_object_space'))}) + external ${f(b.externalMb)} MB ` +
    `(array buffers ${f(b.arrayBuffersMb)}) + V8 malloced ${f(b.mallocedMb)} MB + the rest (heap pages V8 keeps mapped outside its spaces, ` +
    `the allocator's arenas, Node's native memory) ${f(unaccountedMb(b))} MB`
  );
}
