import type { AccessLogger } from './types.js';

/** Past this many buffered characters the lines are written at once. */
const FLUSH_AT = 64 * 1024;

let pending = '';
let scheduled = false;
let hooked = false;

/** Writes what the default access log has buffered (run at process exit). */
export function flushAccessLog(): void {
  scheduled = false;
  if (pending === '') return;
  const lines = pending;
  pending = '';
  process.stdout.write(lines);
}

/**
 * The gateway's default access log: one JSON line per finished request on stdout. Lines are
 * serialised at once (nothing of the request is kept) and written together once per turn of the
 * event loop (or at 64 KB): stdout to a file or a pipe is a synchronous write on Linux, one system
 * call per batch instead of one per request. What is buffered is written at process exit too.
 */
export const stdoutAccessLog: AccessLogger = (entry) => {
  pending += `${JSON.stringify(entry)}\n`;
  if (!hooked) {
    hooked = true;
    process.once('exit', flushAccessLog);
  }
  if (pending.length >= FLUSH_AT) flushAccessLog();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushAccessLog);
  }
};
