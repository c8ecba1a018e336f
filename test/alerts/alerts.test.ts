import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LABELS, PROMETHEUS_SERIES_NAMES } from '../../grafana/src/index.js';
import { labelNamesIn, metricNamesIn } from '../dashboards/promqlNames.js';
import { REPO_ROOT, findPromtool, isCI, runPromtool } from './promtool.js';

const RULES = 'prometheus/rules/bulwark-alerts.yml';
const TESTS = 'prometheus/rules/tests/bulwark-alerts.test.yml';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: { name: string; rules: Rule[] }[];
}
interface TestsFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[] }[];
}

const rules = (parse(readFileSync(join(REPO_ROOT, RULES), 'utf8')) as RulesFile).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const unitTests = parse(readFileSync(join(REPO_ROOT, TESTS), 'utf8')) as TestsFile;

/** The alerts the issue asks for; removing or renaming one must be a deliberate change here too. */
const EXPECTED_ALERTS = [
  'BulwarkBreakerOpened',
  'BulwarkBreakerStuckOpen',
  'BulwarkBreakerFlapping',
  'BulwarkChainAllTargetsOpen',
  'BulwarkChainExhausted',
  'BulwarkRetryStorm',
  'BulwarkSustainedFallback',
  'BulwarkProviderAuthFailing',
  'BulwarkTargetAtLimits',
  'BulwarkTelemetryAbsent',
];

describe('alert rules', () => {
  it('define every promised alert, once', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([...EXPECTED_ALERTS].sort());
  });

  it.each(alerts)('$alert has a severity, a summary, a description and a one-line runbook', (rule) => {
    expect(['warning', 'critical']).toContain(rule.labels?.severity);
    for (const key of ['summary', 'description', 'runbook']) {
      const text = rule.annotations?.[key] ?? '';
      expect(text, `${rule.alert} annotation ${key}`).toMatch(/\S/);
      expect(text, `${rule.alert} annotation ${key} must be one line`).not.toContain('\n');
    }
  });

  it('select only metrics and labels of the telemetry contract', () => {
    const known = new Set(PROMETHEUS_SERIES_NAMES);
    const knownLabels = new Set<string>([...Object.values(LABELS), 'le']);
    for (const rule of rules) {
      const metrics = metricNamesIn(rule.expr);
      expect(metrics.length, rule.alert).toBeGreaterThan(0);
      for (const name of metrics) expect(known, `${rule.alert}: unknown metric ${name}`).toContain(name);
      for (const label of labelNamesIn(rule.expr)) expect(knownLabels, `${rule.alert}: unknown label ${label}`).toContain(label);
    }
  });

  it('have a promtool unit test that fires and one that stays silent for every alert', () => {
    expect(unitTests.rule_files).toEqual(['../bulwark-alerts.yml']);
    const cases = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of EXPECTED_ALERTS) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${name} never expected to fire`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name} never expected to stay silent`).toBe(true);
    }
  });
});

const promtool = await findPromtool();

// Locally a machine without promtool skips these (loudly); under CI a missing promtool is a failure, never a skip.
if (promtool === undefined && !isCI) {
  console.warn('\n[bulwark] SKIPPING promtool checks: promtool not found. Run `bash scripts/install-tools.sh` or set PROMTOOL.\n');
}
describe.skipIf(promtool === undefined && !isCI)('promtool', () => {
  function tool(): string {
    if (promtool === undefined) {
      throw new Error('promtool not found: run scripts/install-tools.sh or set PROMTOOL=/path/to/promtool');
    }
    return promtool;
  }

  it('check rules accepts the rule file', async () => {
    const { code, output } = await runPromtool(tool(), ['check', 'rules', RULES]);
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });

  it('test rules passes every alert unit test', async () => {
    const { code, output } = await runPromtool(tool(), ['test', 'rules', TESTS]);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});
