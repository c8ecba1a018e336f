import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The house stacks: imports go down only (STYLE.md, "floors, not a catalogue"). Each floor lists
 * its rooms, top to bottom; a room may import rooms on lower floors, never one on its own floor
 * (siblings stay apart) nor above. `telemetry/names.ts` is its own room on the ground floor:
 * the names and value lists of the telemetry contract, data every floor may use.
 */
const FLOORS: readonly (readonly string[])[] = [
  ['index.ts'], //                                        the public surface
  ['gateway'], //                                          the HTTP server over fronts and the operator handler
  ['ai-sdk', 'fronts', 'operator', 'otel', 'testing'], //  entry points beside the client
  ['createResilientLLM.ts'], //                            wiring: config, runtimes, observers, health, overrides
  ['chain'], //                                            the path of one request (DESIGN §1)
  ['config'], //                                           composes the slices, validates once
  ['telemetry'], //                                        the OpenTelemetry observer
  ['breaker', 'retry', 'cache', 'cost', 'health', 'pool'], // policies beneath the engine
  ['state'], //                                            stores: memory, Redis, the shared link
  ['providers'], //                                        adapters: the only files that know a vendor SDK
  ['validation'], //                                       the validation walk, the request validator
  ['events'], //                                           the observer seam and its payloads
  ['errors', 'request'], //                                error types and classification; the request vocabulary — siblings, apart
  ['records'], //                                          what calls produce: tool calls, usage, attempt records
  ['time', 'telemetry/names.ts'],
];

/**
 * Rooms that must hold no module-level mutable state: the engine and the policies report through
 * the observer or the permit they were handed, never through a module global (the old
 * `currentAttempt` side channel), and the ground floor is plain values.
 */
const STATELESS_MODULES = ['chain', 'breaker', 'retry', 'cache', 'cost', 'health', 'pool', 'state', 'providers', 'validation', 'events', 'errors', 'request', 'records', 'time'];

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** The room a source file (path relative to src/, '/'-separated) belongs to. */
function roomOf(file: string): string {
  if (file === 'telemetry/names.ts') return file;
  const dir = posix.dirname(file);
  return dir === '.' ? file : dir.split('/')[0]!;
}

/** Room → room edges of src/, each with the files that make it. */
function importGraph(): Map<string, Map<string, Set<string>>> {
  const graph = new Map<string, Map<string, Set<string>>>();
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => f.split(sep).join('/'));
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    // Static imports and re-exports, `import('…')` types and dynamic imports alike.
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(SRC, resolve(SRC, posix.dirname(file), match[1]!)).split(sep).join('/').replace(/\.js$/, '.ts');
      const from = roomOf(file);
      const to = roomOf(target);
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, Set<string>>();
      graph.set(from, edges);
      edges.set(to, (edges.get(to) ?? new Set()).add(file));
    }
  }
  return graph;
}

/** Edges that do not go down, as readable lines. */
function layeringViolations(graph: Map<string, Map<string, Set<string>>>, floors: readonly (readonly string[])[]): string[] {
  const floorOf = new Map(floors.flatMap((rooms, floor) => rooms.map((room) => [room, floor] as const)));
  const problems: string[] = [];
  for (const [from, edges] of graph) {
    for (const [to, files] of edges) {
      const a = floorOf.get(from);
      const b = floorOf.get(to);
      const where = [...files].join(', ');
      if (a === undefined) problems.push(`${from} is on no floor: add it to FLOORS (imports ${to} in ${where})`);
      else if (b === undefined) problems.push(`${to} is on no floor: add it to FLOORS (imported by ${where})`);
      else if (b <= a) problems.push(`${from} (floor ${a}) imports ${to} (floor ${b}${b === a ? ', a sibling' : ', above it'}) in ${where}`);
    }
  }
  return problems;
}

/** Import cycles between rooms (Tarjan's strongly connected components larger than one room). */
function roomCycles(graph: Map<string, Map<string, Set<string>>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (room: string) => {
    index.set(room, counter);
    low.set(room, counter++);
    stack.push(room);
    onStack.add(room);
    for (const next of graph.get(room)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(room, Math.min(low.get(room)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(room, Math.min(low.get(room)!, index.get(next)!));
    }
    if (low.get(room) === index.get(room)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== room);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const room of graph.keys()) if (!index.has(room)) visit(room);
  return cycles;
}

/** The one module global of the request path, and why it is one: ids unique across every chain of the process. */
const ALLOWED_GLOBALS = ['chain/chat.ts:requestSeq'];

/** Names of a module's top-level `let` / `var` bindings (the code is formatted: top level is column 0). */
function globalNames(text: string): string[] {
  return [...text.matchAll(/^(?:export\s+)?(?:let|var)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!);
}

/** Module-level mutable bindings of a room's files, as `file:name`. */
function moduleGlobals(room: string): string[] {
  const files = (readdirSync(join(SRC, room), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  return files.flatMap((f) => globalNames(readFileSync(join(SRC, room, f), 'utf8')).map((name) => `${room}/${f.split(sep).join('/')}:${name}`));
}

const edgesOf = (pairs: Array<[string, string]>) => {
  const graph = new Map<string, Map<string, Set<string>>>();
  for (const [from, to] of pairs) graph.set(from, (graph.get(from) ?? new Map()).set(to, new Set([`${from}/x.ts`])));
  return graph;
};

describe('the folder import graph of src/', () => {
  const graph = importGraph();

  it('goes down only: no folder imports a sibling or a folder above it', () => {
    expect(layeringViolations(graph, FLOORS)).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(roomCycles(graph)).toEqual([]);
  });

  it('places every folder of src/ on a floor, and every floor names folders that exist', () => {
    const rooms = new Set((readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => roomOf(f.split(sep).join('/'))));
    const placed = new Set(FLOORS.flat());
    expect([...rooms].filter((room) => !placed.has(room))).toEqual([]);
    expect([...placed].filter((room) => !rooms.has(room))).toEqual([]);
  });

  it('is read from the code: the chain imports the breaker, the breaker does not import the chain', () => {
    expect(graph.get('chain')?.has('breaker')).toBe(true);
    expect(graph.get('breaker')?.has('chain') ?? false).toBe(false);
  });

  it('keeps errors/ and the request vocabulary apart: both stand on what calls produce, neither imports the other', () => {
    expect(graph.get('errors')?.has('records')).toBe(true);
    expect([...(graph.get('errors')?.keys() ?? [])].filter((room) => room !== 'records')).toEqual([]);
    expect(graph.get('request')?.has('errors') ?? false).toBe(false);
  });

  it('holds no module-level mutable state in the request path and below (no side channel such as a current attempt)', () => {
    expect(STATELESS_MODULES.flatMap(moduleGlobals).filter((g) => !ALLOWED_GLOBALS.includes(g))).toEqual([]);
  });
});

describe('the layering checks themselves', () => {
  it('find module-level let and var, not those inside functions nor constants', () => {
    expect(globalNames('let a = 1;\nconst b = 2;\nfunction f() {\n  let c = 3;\n}\nexport let d = 4;\nvar e;\n')).toEqual(['a', 'd', 'e']);
  });

  const floors = [['top'], ['middle', 'beside'], ['bottom']];

  it('accept imports that go down', () => {
    expect(layeringViolations(edgesOf([['top', 'middle'], ['middle', 'bottom'], ['top', 'bottom']]), floors)).toEqual([]);
  });

  it('name an import that goes up, one between siblings, and a folder on no floor', () => {
    expect(layeringViolations(edgesOf([['bottom', 'top'], ['middle', 'beside'], ['attic', 'top']]), floors)).toEqual([
      'bottom (floor 2) imports top (floor 0, above it) in bottom/x.ts',
      'middle (floor 1) imports beside (floor 1, a sibling) in middle/x.ts',
      'attic is on no floor: add it to FLOORS (imports top in attic/x.ts)',
    ]);
  });

  it('find a cycle between folders, and none in a graph that goes down', () => {
    expect(roomCycles(edgesOf([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']]))).toEqual([['a', 'b', 'c']]);
    expect(roomCycles(edgesOf([['a', 'b'], ['b', 'c'], ['a', 'c']]))).toEqual([]);
  });
});
