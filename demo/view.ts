/**
 * The two ways the demo shows itself while it runs: a live panel redrawn in place on a terminal,
 * and plain timestamped lines when the output is a pipe or a CI log.
 */
import { PHASES } from './incident.js';
import type { DemoStats, LiveSnapshot, Served, TransitionRecord } from './stats.js';
import type { DemoView, RunInfo } from './workload.js';

export const fmt = {
  pct: (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)} %` : '–'),
  ms: (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '–'),
  sec: (ms: number) => `${(ms / 1000).toFixed(1)} s`,
  usd: (x: number) => (Number.isFinite(x) ? `$${x >= 0.01 ? x.toFixed(2) : x.toPrecision(2)}` : '–'),
  int: (x: number) => Math.round(x).toLocaleString('en-US'),
};

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  hideCursor: '\x1b[?25l',
  showCursor: '\x1b[?25h',
  clearLine: '\x1b[2K',
  up: (n: number) => (n > 0 ? `\x1b[${n}A` : ''),
};

const TIER_ORDER: readonly Served[] = ['full', 'reduced', 'cached', 'static', 'failed'];

function tierMix(share: Record<Served, number>, color: (tier: Served, text: string) => string): string {
  return TIER_ORDER.filter((t) => t !== 'failed' || share.failed > 0)
    .map((t) => color(t, `${t} ${fmt.pct(share[t]).padStart(5)}`))
    .join('  ');
}

function transitionLine(t: TransitionRecord): string {
  return `breaker ${t.breaker}: ${t.from} → ${t.to} (${t.reason.replaceAll('_', ' ')})`;
}

function stateLabel(b: LiveSnapshot['breakers'][number]): string {
  if (b.state !== 'open') return b.state.replace('_', '-');
  return b.nextProbeInMs !== undefined ? `open (probe in ${fmt.sec(b.nextProbeInMs)})` : 'open';
}

/** The live panel: redrawn in place every `intervalMs`. */
export function terminalView(out: NodeJS.WriteStream): DemoView {
  let info: RunInfo | undefined;
  let drawn = 0;
  const c = (code: string, text: string) => `${code}${text}${ANSI.reset}`;
  const tierColor = (tier: Served, text: string) =>
    tier === 'full' ? c(ANSI.green, text) : tier === 'reduced' ? c(ANSI.yellow, text) : tier === 'failed' ? c(ANSI.red, text) : c(ANSI.cyan, text);
  const stateColor = (state: string, text: string) => (state === 'closed' ? c(ANSI.green, text) : state === 'open' ? c(ANSI.red, text) : c(ANSI.yellow, text));

  const draw = (stats: DemoStats) => {
    if (!info) return;
    const s = stats.snapshot();
    const width = Math.max(60, (out.columns ?? 100) - 1);
    const total = info.timing.durationMs;
    const phase = PHASES[s.phase]!;
    const barWidth = Math.max(20, Math.min(50, width - 30));
    const done = Math.min(barWidth, Math.round((s.elapsedMs / total) * barWidth));
    const marks = PHASES.map((p) => Math.round(p.from * barWidth));
    let bar = '';
    for (let i = 0; i < barWidth; i++) bar += i < done ? '█' : marks.includes(i) ? '┆' : '·';
    const labelWidth = Math.max(...s.breakers.map((b) => b.key.length));
    const lines = [
      `${c(ANSI.bold, 'Bulwark demo')}  chain ${info.chain}: ${info.targets.join(' → ')}`,
      `${c(ANSI.bold, `phase ${s.phase + 1}/${PHASES.length}`)}  ${c(ANSI.bold, phase.title)} ${c(ANSI.dim, `— ${phase.happening}`)}`,
      `[${bar}] ${fmt.sec(Math.min(s.elapsedMs, total))} / ${fmt.sec(total)}`,
      '',
      `requests/s    ${s.requestsPerSec.toFixed(1).padStart(6)}    total ${fmt.int(s.total)}, in flight ${s.inFlight}    p95 latency ${fmt.ms(s.p95Ms)}`,
      `tier mix      ${tierMix(s.servedShare, tierColor)}`,
      `retry rate    ${fmt.pct(s.retryRate).padStart(6)}    fallback activation ${fmt.pct(s.fallbackActivation)}    cost per successful request ${fmt.usd(s.costPerSuccessUsd)}`,
      ...s.breakers.map((b, i) => `${i === 0 ? 'breakers' : ''}`.padEnd(14) + `${b.key.padEnd(labelWidth)}  ${stateColor(b.state, `● ${stateLabel(b)}`)}`),
      c(ANSI.dim, `latest        ${s.recentTransitions.length ? s.recentTransitions.map((t) => `${fmt.sec(t.atMs)} ${transitionLine(t)}`).at(-1) : 'no breaker transition yet'}`),
    ];
    let text = ANSI.up(drawn);
    for (const line of lines) text += `${ANSI.clearLine}${line}\n`;
    out.write(text);
    drawn = lines.length;
  };

  return {
    intervalMs: 250,
    begin(runInfo) {
      info = runInfo;
      out.write(ANSI.hideCursor);
      const restore = () => out.write(ANSI.showCursor);
      process.once('exit', restore);
    },
    update: draw,
    end(stats) {
      draw(stats);
      out.write(`${ANSI.showCursor}\n`);
    },
  };
}

/** Plain lines: a status line every few seconds, plus each phase change and breaker transition as it happens. */
export function plainView(write: (line: string) => void): DemoView {
  let info: RunInfo | undefined;
  let phaseShown = -1;
  let transitionsShown = 0;
  let lastStatus = 0;
  let statusEveryMs = 5000;
  const stamp = (ms: number) => `[${(ms / 1000).toFixed(1).padStart(5)} s]`;

  const flushEvents = (stats: DemoStats) => {
    const transitions = stats.transitions;
    for (; transitionsShown < transitions.length; transitionsShown++) {
      const t = transitions[transitionsShown]!;
      write(`${stamp(t.atMs)} ${transitionLine(t)}`);
    }
  };

  const status = (s: LiveSnapshot) => {
    const tiers = TIER_ORDER.filter((t) => t !== 'failed' || s.servedShare.failed > 0)
      .map((t) => `${t} ${fmt.pct(s.servedShare[t])}`)
      .join(', ');
    const breakers = s.breakers.map((b) => `${b.key}=${b.state}`).join(' ');
    write(
      `${stamp(s.elapsedMs)} ${s.requestsPerSec.toFixed(1)} req/s | tiers ${tiers} | retry rate ${fmt.pct(s.retryRate)} | ` +
        `fallback ${fmt.pct(s.fallbackActivation)} | ${fmt.usd(s.costPerSuccessUsd)}/ok | p95 ${fmt.ms(s.p95Ms)} | ${breakers}`,
    );
  };

  const update = (stats: DemoStats) => {
    if (!info) return;
    const s = stats.snapshot();
    if (s.phase !== phaseShown) {
      phaseShown = s.phase;
      const p = PHASES[s.phase]!;
      write(`${stamp(s.elapsedMs)} phase ${s.phase + 1}/${PHASES.length}: ${p.title} — ${p.happening}`);
    }
    flushEvents(stats);
    if (s.elapsedMs - lastStatus >= statusEveryMs) {
      lastStatus = s.elapsedMs;
      status(s);
    }
  };

  return {
    intervalMs: 200,
    begin(runInfo) {
      info = runInfo;
      statusEveryMs = Math.min(5000, Math.max(1000, runInfo.timing.durationMs / 20));
      const where = runInfo.live ? 'real providers (--live)' : `fault server ${runInfo.serverUrl}`;
      write(`Bulwark demo: chain ${runInfo.chain}: ${runInfo.targets.join(' → ')}`);
      write(`${runInfo.conversations} concurrent conversations against ${where}, incident script of ${fmt.sec(runInfo.timing.durationMs)}`);
    },
    update,
    end(stats) {
      flushEvents(stats);
      status(stats.snapshot());
    },
  };
}

/** No output (tests). */
export const silentView: DemoView = { intervalMs: 1000, begin() {}, update() {}, end() {} };
