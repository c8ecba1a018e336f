/**
 * What the gateway suite asks of a server process it forked (the Bulwark gateway, the floor
 * proxies), over the IPC channel: its CPU time and memory so far, and a sampling CPU profile (or a
 * sampling heap profile of what is still alive) between two messages, folded into the stages of a
 * request (see `stageOfFrame`). Answers each message with `{ id, ... }`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';

export type ProbeRequest =
  | { id: number; cmd: 'usage' }
  | { id: number; cmd: 'profile-start' }
  | { id: number; cmd: 'profile-stop'; name: string }
  | { id: number; cmd: 'heap-start' }
  | { id: number; cmd: 'heap-stop' };

export interface Usage {
  /** process.cpuUsage() user + system, µs. */
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface StageProfile {
  /** Samples in all, and how many were the process waiting (idle). */
  samples: number;
  idle: number;
  intervalMicros: number;
  /** Busy samples per stage, largest first. */
  stages: Array<{ stage: string; samples: number }>;
  /** The busiest functions by self time (name file:line), for reading the profile without DevTools. */
  functions: Array<{ name: string; samples: number }>;
  file: string;
}

/** What was allocated between heap-start and heap-stop and is still alive at the stop, by stage. */
export interface HeapStages {
  /** Live bytes in all (as sampled: V8's sampling heap profiler, one sample per ~8 KB allocated). */
  bytes: number;
  stages: Array<{ stage: string; bytes: number }>;
}

interface HeapNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: HeapNode[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** A frame's file, short: `src/gateway/server.js`, `openai/client.js`, `node:_http_server`. */
function shortUrl(url: string): string {
  const inBuild = url.match(/bulwark-bench\/(.*)$/) ?? url.match(/\/(src\/.*|bench\/.*)$/);
  if (inBuild) return inBuild[1]!;
  const inModules = url.match(/.*node_modules\/(.*)$/);
  if (inModules) return inModules[1]!;
  return url.replace(/^file:\/\//, '');
}

/**
 * The stage a frame's code belongs to, or undefined for Node's own http/net/stream code and V8
 * builtins (JSON.parse, Buffer.concat, …): those count for the nearest frame up the stack that
 * has a stage (JSON.parse called by the gateway's body read counts as the body read).
 */
function stageOfFrame(url: string, fn: string): string | undefined {
  if (!url) return undefined;
  if (url.includes('deps/undici') || url.includes('node_modules/undici/')) return 'upstream fetch (undici, in the official client)';
  if (url.startsWith('node:')) return undefined;
  const file = shortUrl(url);
  if (file.startsWith('openai/')) return 'official openai client (request building, response parsing)';
  if (file.startsWith('@opentelemetry/')) return 'OpenTelemetry SDK (spans, metrics)';
  if (file.startsWith('src/gateway/serverTelemetry')) return 'gateway: SERVER span + http.server.request.duration';
  if (file.startsWith('src/gateway/gatewayConfig') || /accessLog|AccessLog/.test(fn)) return 'gateway: access log';
  if (file.startsWith('src/gateway/server')) {
    if (fn === 'readBody' || fn.startsWith('readBody')) return 'gateway: body read + JSON.parse';
    if (fn.startsWith('writeResponse') || fn.startsWith('sendJson') || fn.startsWith('sendError')) return 'gateway: response serialisation + write';
    return 'gateway: request handler (routing, auth, exchange)';
  }
  if (file.startsWith('src/gateway/')) return 'gateway: auth, limits';
  if (file.startsWith('src/fronts/')) return 'OpenAI front (wire ↔ Bulwark conversion, response JSON)';
  if (file.startsWith('src/telemetry/')) return 'Bulwark pipeline: telemetry observer';
  if (file.startsWith('src/providers/')) return 'Bulwark pipeline: openai target adapter';
  if (file.startsWith('src/')) return 'Bulwark pipeline: chain, policies, cache, state';
  if (file.startsWith('bench/')) return 'benchmark harness (floor proxies, probe)';
  const pkg = file.match(/^(@[^/]+\/[^/]+|[^/]+)\//);
  return pkg ? `package ${pkg[1]}` : file;
}

/** V8/Node natives that are a socket write system call. */
const SOCKET_WRITES = new Set(['writev', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']);

export function foldProfile(nodes: readonly ProfileNode[], intervalMicros: number, file: string): StageProfile {
  const parent = new Map<number, ProfileNode>();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node);
  const stages = new Map<string, number>();
  const functions = new Map<string, number>();
  let samples = 0;
  let idle = 0;
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    samples += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += hits;
      continue;
    }
    const self = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
    functions.set(self, (functions.get(self) ?? 0) + hits);
    let stage: string | undefined;
    if (functionName === '(garbage collector)') stage = 'garbage collector';
    else if (functionName === '(program)') stage = '(program: V8/libuv outside JS)';
    for (let at: ProfileNode | undefined = node; !stage && at; at = parent.get(at.id)) stage = stageOfFrame(at.callFrame.url, at.callFrame.functionName);
    stage ??= 'node:http / net / streams (no JS frame of a stage on the stack: parsing, socket I/O)';
    // The system calls that send bytes are the same cost whoever calls them: the answer's write to
    // the client is its own stage (the upstream request's stays with the upstream fetch), and
    // JSON.parse (a builtin) in the gateway's handler is the body's parse.
    if (!url && SOCKET_WRITES.has(functionName) && !stage.startsWith('upstream fetch')) stage = 'socket write of the answer to the client (system call)';
    else if (!url && functionName === 'parse' && stage.startsWith('gateway: request handler')) stage = 'gateway: body read + JSON.parse';
    stages.set(stage, (stages.get(stage) ?? 0) + hits);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    samples,
    idle,
    intervalMicros,
    stages: sorted(stages).map(([stage, n]) => ({ stage, samples: n })),
    functions: sorted(functions)
      .slice(0, 15)
      .map(([name, n]) => ({ name, samples: n })),
    file,
  };
}

/** A sampling heap profile folded as the CPU profile is: each allocation counts for the nearest frame that has a stage. */
export function foldHeap(head: HeapNode): HeapStages {
  const stages = new Map<string, number>();
  let bytes = 0;
  const walk = (node: HeapNode, stage: string | undefined) => {
    const own = stageOfFrame(node.callFrame.url, node.callFrame.functionName) ?? stage;
    if (node.selfSize) {
      bytes += node.selfSize;
      const s = own ?? 'node:http / net / streams (no JS frame of a stage on the stack)';
      stages.set(s, (stages.get(s) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, own);
  };
  walk(head, undefined);
  return { bytes, stages: [...stages].sort((a, b) => b[1] - a[1]).map(([stage, n]) => ({ stage, bytes: n })) };
}

export function usage(): Usage {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { cpuMicros: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers };
}

/** Answers the suite's probe messages on this process's IPC channel. */
export function serveProbe(): void {
  const INTERVAL = 100;
  let session: Session | undefined;
  process.on('message', (message: ProbeRequest) => {
    void (async () => {
      if (message.cmd === 'usage') return process.send!({ id: message.id, usage: usage() });
      if (message.cmd === 'profile-start') {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: INTERVAL });
        await session.post('Profiler.start');
        return process.send!({ id: message.id });
      }
      if (message.cmd === 'heap-start') {
        session = new Session();
        session.connect();
        await session.post('HeapProfiler.enable');
        await session.post('HeapProfiler.startSampling', { samplingInterval: 8192 });
        return process.send!({ id: message.id });
      }
      if (message.cmd === 'heap-stop' && session) {
        const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
        session.disconnect();
        session = undefined;
        return process.send!({ id: message.id, heap: foldHeap(profile.head) });
      }
      if (message.cmd === 'profile-stop' && session) {
        const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
        session.disconnect();
        session = undefined;
        const file = path.join(os.tmpdir(), `bulwark-${message.name}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        return process.send!({ id: message.id, profile: foldProfile(profile.nodes, INTERVAL, file) });
      }
    })();
  });
}
