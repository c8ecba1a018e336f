/** The benchmark's output: rows for machines (JSON) and a table for people (Markdown). */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Row {
  name: string;
  metric: string;
  value: number;
  unit: string;
}

export interface Section {
  title: string;
  /** What was measured and how, in a sentence or two. */
  how: string;
  rows: Row[];
  notes?: string[];
}

export function environment(): string {
  const cpus = os.cpus();
  return `Node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const digits = unit === 'x' ? 3 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: unit === 'x' ? 3 : 0 });
  return text === '-0' ? '0' : text;
}

export interface RunMeta {
  date: string;
  command: string;
  smoke: boolean;
  durationSec: number;
  /** 1-minute load average of the machine when the run started and ended (other work on it makes figures noisy). */
  load?: { start: number; end: number };
}

export function markdown(sections: readonly Section[], meta: RunMeta): string {
  const lines = [
    '# Bulwark benchmark — latest results',
    '',
    `${meta.smoke ? '**Smoke run (tiny sample sizes, numbers meaningless).** ' : ''}Run ${meta.date} with \`${meta.command}\` in ${Math.round(meta.durationSec)} s on ${environment()}.`,
    'Everything runs on this one machine over loopback: the official `openai` client against the in-process fault server (`bulwark/testing`), ' +
      'peers pinned as dev dependencies (LiteLLM, with `--peers litellm`: pinned in a Python venv). Latencies are medians across trials of each trial\'s p50 / p99; "added" and "ratio" are taken per trial ' +
      'against the baseline named in the section, then the median across trials. CI runs a smoke version and judges no timing.' +
      (meta.load
        ? ` Load average (1 min) of the machine at the start / end of the run: ${meta.load.start.toFixed(1)} / ${meta.load.end.toFixed(1)} for ${os.cpus().length} cores — ` +
          (Math.max(meta.load.start, meta.load.end) > os.cpus().length
            ? 'above the core count, other processes were competing for the CPU and the figures are noisy (latencies and rates more than shares and counts).'
            : 'within the core count: nothing else was competing for the CPU to speak of (a virtual machine: figures still move by ±15 % from run to run).')
        : ''),
    '',
  ];
  for (const s of sections) {
    lines.push(`## ${s.title}`, '', s.how, '', '| benchmark | metric | value | unit |', '|---|---|---:|---|');
    for (const r of s.rows) lines.push(`| ${r.name} | ${r.metric} | ${format(r.value, r.unit)} | ${r.unit} |`);
    if (s.notes?.length) lines.push('', ...s.notes.map((n) => `- ${n}`));
    lines.push('');
  }
  lines.push('Raw rows: [`latest.json`](latest.json). Reproduce: `npm run bench` (about three minutes; writes this file).', '');
  return lines.join('\n');
}

export async function writeResults(dir: string, sections: readonly Section[], meta: RunMeta): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'latest.json');
  const md = path.join(dir, 'latest.md');
  await writeFile(json, `${JSON.stringify(sections.flatMap((s) => s.rows), null, 2)}\n`);
  await writeFile(md, markdown(sections, meta));
  return { json, md };
}
