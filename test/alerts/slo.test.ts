/**
 * The SLO rules (prometheus/rules/bulwark-slo.yml), generated from grafana/src/slo.ts: the committed file is
 * what the code generates, the recording rules are named bulwark:sli_*:ratio_rate<window> for every window an
 * alert uses, every rule selects only contract metrics and labels, and promtool accepts the file and passes
 * its unit tests (every alert fires in one case and stays silent in another).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LABELS, PROMETHEUS_SERIES_NAMES } from '../../grafana/src/index.js';
import { SLI_WINDOWS, SLO_CONFIG, SLO_RULES_PATH, sloRulesYaml } from '../../grafana/src/slo.js';
import { SECONDS_BUCKETS } from '../../src/telemetry/names.js';
import { labelNamesIn, metricNamesIn } from '../dashboards/promqlNames.js';
import { REPO_ROOT, findPromtool, isCI, runPromtool } from './promtool.js';

const TESTS = 'prometheus/rules/tests/bulwark-slo.test.yml';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const committed = readFileSync(join(REPO_ROOT, SLO_RULES_PATH), 'utf8');
const rules = (parse(committed) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const records = rules.filter((r) => r.record !== undefined);
const alerts = rules.filter((r) => r.alert !== undefined);
const unitTests = parse(readFileSync(join(REPO_ROOT, TESTS), 'utf8')) as {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
};

describe('SLO rules', () => {
  it('the committed file is what grafana/src/slo.ts generates (run `npm run dashboards` after changing it)', () => {
    expect(committed).toBe(sloRulesYaml());
  });

  it('record both SLIs over every window the alerts use, named bulwark:sli_<sli>:ratio_rate<window>', () => {
    expect(SLI_WINDOWS).toEqual(['5m', '30m', '1h', '6h']);
    const names = records.map((r) => r.record!).sort();
    expect(names).toEqual(
      ['answered', 'full_quality'].flatMap((sli) => SLI_WINDOWS.map((w) => `bulwark:sli_${sli}:ratio_rate${w}`)).sort(),
    );
  });

  it('the latency threshold is a bucket boundary of the seconds histograms, and appears as le in the rules', () => {
    expect(SECONDS_BUCKETS).toContain(SLO_CONFIG.latencyThresholdSeconds);
    for (const r of records.filter((x) => x.record!.includes('full_quality'))) expect(r.expr).toContain(`le="${SLO_CONFIG.latencyThresholdSeconds}"`);
  });

  it('page on the 1h/5m pair at 14.4x and warn on the 6h/30m pair at 6x, for both SLIs', () => {
    expect(alerts.map((a) => [a.alert, a.labels?.severity]).sort()).toEqual([
      ['BulwarkSLOAnsweredFastBurn', 'critical'],
      ['BulwarkSLOAnsweredSlowBurn', 'warning'],
      ['BulwarkSLOFullQualityFastBurn', 'critical'],
      ['BulwarkSLOFullQualitySlowBurn', 'warning'],
    ]);
    const fast = alerts.find((a) => a.alert === 'BulwarkSLOAnsweredFastBurn')!;
    expect(fast.expr).toContain('bulwark:sli_answered:ratio_rate1h');
    expect(fast.expr).toContain('bulwark:sli_answered:ratio_rate5m');
    expect(fast.expr).toContain('> 14.4');
    const slow = alerts.find((a) => a.alert === 'BulwarkSLOFullQualitySlowBurn')!;
    expect(slow.expr).toContain('bulwark:sli_full_quality:ratio_rate6h');
    expect(slow.expr).toContain('bulwark:sli_full_quality:ratio_rate30m');
    expect(slow.expr).toContain('> 6');
  });

  it.each(alerts)('$alert has a severity, a summary, a description and a one-line runbook', (rule) => {
    for (const key of ['summary', 'description', 'runbook']) {
      const text = rule.annotations?.[key] ?? '';
      expect(text, `${rule.alert} ${key}`).toMatch(/\S/);
      expect(text).not.toContain('\n');
    }
  });

  it('select only metrics and labels of the telemetry contract (and their own recording rules)', () => {
    const known = new Set([...PROMETHEUS_SERIES_NAMES, ...records.map((r) => r.record!)]);
    const knownLabels = new Set<string>([...Object.values(LABELS), 'le']);
    for (const rule of rules) {
      const names = metricNamesIn(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(known, `${rule.record ?? rule.alert}: ${name}`).toContain(name);
      for (const label of labelNamesIn(rule.expr)) expect(knownLabels, `${rule.record ?? rule.alert}: ${label}`).toContain(label);
    }
  });

  it('have a promtool unit test that fires and one that stays silent for every alert', () => {
    expect(unitTests.rule_files).toEqual(['../bulwark-slo.yml']);
    const cases = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert} never fires`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert} never silent`).toBe(true);
    }
  });
});

const promtool = await findPromtool();
describe.skipIf(promtool === undefined && !isCI)('promtool (SLO rules)', () => {
  const tool = (): string => {
    if (promtool === undefined) throw new Error('promtool not found: run scripts/install-tools.sh or set PROMTOOL');
    return promtool;
  };
  it('check rules accepts the file', async () => {
    const { code, output } = await runPromtool(tool(), ['check', 'rules', SLO_RULES_PATH]);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
  it('test rules passes every unit test', async () => {
    const { code, output } = await runPromtool(tool(), ['test', 'rules', TESTS]);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});
