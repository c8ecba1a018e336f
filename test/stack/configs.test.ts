/**
 * The observability stack's config files, checked with the real tools (no Docker engine here):
 * docker-compose validates docker-compose.yml, amtool validates the Alertmanager config, and the
 * files the compose stack mounts are the ones in the repo with the settings the dashboards and
 * alerts rely on.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { needTools, repoRoot } from '../support/tools.js';

const readYaml = (rel: string): any => parse(readFileSync(join(repoRoot, rel), 'utf8'));

interface ComposeService {
  image: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[] | null;
  stop_grace_period?: string;
  ports?: { target: number; published: string }[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
}

const compose = needTools('docker-compose');

describe.skipIf(compose.skip)('docker-compose.yml (docker-compose config)', () => {
  const config = (env: Record<string, string> = {}): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } =>
    JSON.parse(
      execFileSync(compose.path('docker-compose'), ['-f', 'docker-compose.yml', 'config', '--format', 'json'], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, GRAFANA_ADMIN_PASSWORD: '', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', ...env },
      }),
    );

  it('validates', () => {
    const r = spawnSync(compose.path('docker-compose'), ['-f', 'docker-compose.yml', 'config', '--quiet'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('rejects a broken compose file (the validation is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-compose-'));
    try {
      writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  x:\n    image: busybox:1.37\n    not_a_compose_key: 1\n');
      const r = spawnSync(compose.path('docker-compose'), ['-f', 'docker-compose.yml', 'config', '--quiet'], { cwd: dir, encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not_a_compose_key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the seven services, exact image tags, and healthchecks where the image has a shell', () => {
    const { services, volumes } = config();
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'gateway', 'grafana', 'otel-collector', 'prometheus', 'redis', 'tempo']);
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
    }
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    expect(services.prometheus!.image).toMatch(/^prom\/prometheus:v3\./);
    for (const name of ['prometheus', 'grafana', 'alertmanager', 'gateway', 'redis']) expect(services[name]!.healthcheck, name).toBeDefined();
    expect(Object.keys(volumes).sort()).toEqual(['alertmanager-data', 'grafana-data', 'prometheus-data', 'tempo-data']);
  });

  it('publishes the documented ports', () => {
    const { services } = config();
    const published = Object.fromEntries(
      Object.entries(services).map(([n, s]) => [n, (s.ports ?? []).map((p) => Number(p.published)).sort((a, b) => a - b)]),
    );
    expect(published).toEqual({
      'otel-collector': [4317, 4318, 8888, 13133],
      prometheus: [9090],
      tempo: [3200],
      grafana: [3000],
      alertmanager: [9093],
      gateway: [8787],
      redis: [],
    });
  });

  it('mounts the repo config files the tests check (and they exist)', () => {
    const { services } = config();
    const mounts = (svc: string): Record<string, string> =>
      Object.fromEntries(
        (services[svc]!.volumes ?? []).filter((v) => v.type === 'bind').map((v) => [v.target, relative(repoRoot, v.source)]),
      );
    expect(mounts('otel-collector')).toEqual({ '/etc/otelcol/config.yaml': 'otel-collector/config.yaml' });
    expect(services['otel-collector']!.command).toEqual(['--config=/etc/otelcol/config.yaml']);
    expect(mounts('prometheus')).toEqual({
      '/etc/prometheus/prometheus.yml': 'prometheus/prometheus.yml',
      '/etc/prometheus/rules': 'prometheus/rules',
    });
    expect(services.prometheus!.command).toEqual(
      expect.arrayContaining(['--config.file=/etc/prometheus/prometheus.yml', '--web.enable-otlp-receiver']),
    );
    expect(mounts('alertmanager')).toEqual({ '/etc/alertmanager/alertmanager.yml': 'alertmanager/alertmanager.yml' });
    expect(mounts('gateway')).toEqual({ '/etc/bulwark/gateway.yaml': 'gateway/bulwark.config.yaml' });
    expect(mounts('tempo')).toEqual({ '/etc/tempo/tempo.yaml': 'tempo/tempo.yaml' });
    expect(mounts('grafana')).toEqual({
      '/etc/grafana/provisioning/datasources': 'grafana/provisioning/datasources',
      '/etc/grafana/provisioning/dashboards': 'grafana/provisioning/dashboards',
      '/var/lib/grafana/dashboards': 'grafana/dashboards',
    });
    for (const f of [
      'otel-collector/config.yaml',
      'prometheus/prometheus.yml',
      'alertmanager/alertmanager.yml',
      'tempo/tempo.yaml',
      'grafana/provisioning/datasources/datasources.yaml',
      'grafana/provisioning/dashboards/dashboards.yaml',
      'gateway/bulwark.config.yaml',
    ]) {
      expect(existsSync(join(repoRoot, f)), f).toBe(true);
    }
  });

  it('sends the collector to prometheus and tempo by service name', () => {
    const env = config().services['otel-collector']!.environment ?? {};
    expect(env.PROMETHEUS_OTLP_ENDPOINT).toBe('http://prometheus:9090/api/v1/otlp');
    expect(env.TEMPO_OTLP_ENDPOINT).toBe('tempo:4317');
  });

  it('builds the gateway from the repo Dockerfile, sends its telemetry to the collector and its state to redis, keys from the host only', () => {
    const { gateway, redis } = config().services as Record<string, ComposeService>;
    expect(gateway!.build).toEqual({ context: repoRoot, dockerfile: 'Dockerfile' });
    expect(gateway!.command).toEqual(dockerfile.cmd);
    expect(gateway!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:8787/readyz');
    expect(gateway!.depends_on).toMatchObject({ redis: { condition: 'service_healthy' }, 'otel-collector': { condition: 'service_started' } });
    expect(gateway!.environment).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_SERVICE_NAME: 'bulwark-gateway',
      REDIS_URL: 'redis://redis:6379',
      OPENAI_API_KEY: '',
      ANTHROPIC_API_KEY: '',
    });
    // The keys are the host's, passed through; nothing in the compose file holds one.
    const withKeys = config({ OPENAI_API_KEY: 'sk-host-1', ANTHROPIC_API_KEY: 'sk-host-2' }).services.gateway!.environment!;
    expect([withKeys.OPENAI_API_KEY, withKeys.ANTHROPIC_API_KEY]).toEqual(['sk-host-1', 'sk-host-2']);
    // The drain (server.drainTimeoutMs of the mounted config) fits in the grace period before SIGKILL.
    const drainMs = readYaml('gateway/bulwark.config.yaml').server.drainTimeoutMs as number;
    expect(parseInt(gateway!.stop_grace_period!, 10) * 1000).toBeGreaterThan(drainMs);
    expect(redis!.image).toMatch(/^redis:7\.\d+\.\d+$/);
  });
});

/** The Dockerfile's instructions (continuation lines joined), by stage. */
const dockerfile = (() => {
  const lines = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('FROM ')) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const final = stages.at(-1) ?? [];
  const arg = (instruction: string) => {
    const line = final.find((l) => l.startsWith(`${instruction} `));
    return line === undefined ? undefined : line.slice(instruction.length + 1).trim();
  };
  return { stages, final, arg, cmd: JSON.parse(arg('CMD') ?? '[]') as string[] };
})();

describe('Dockerfile (the gateway image)', () => {
  it('is multi-stage on a pinned node 24 slim image, and the final stage carries no sources or dev dependencies', () => {
    expect(dockerfile.stages).toHaveLength(2);
    for (const stage of dockerfile.stages) expect(stage[0]).toMatch(/^FROM node:24\.\d+\.\d+-slim( AS \w+)?$/);
    expect(dockerfile.final.filter((l) => l.startsWith('COPY'))).toEqual(['COPY --from=build /out/ /tmp/bulwark/']);
    expect(dockerfile.arg('RUN')).toMatch(/npm install --omit=dev .*bulwark\.tgz \$\(cat \/tmp\/bulwark\/packages\.txt\)/);
  });

  it('runs as the non-root node user, checks /readyz, and starts the bulwark bin with the config compose mounts', () => {
    expect(dockerfile.arg('USER')).toBe('node');
    expect(dockerfile.arg('HEALTHCHECK')).toMatch(/CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:8787\/readyz'\)/);
    expect(JSON.parse(dockerfile.arg('ENTRYPOINT')!)).toEqual(['/app/node_modules/.bin/bulwark']);
    expect(dockerfile.cmd).toEqual(['gateway', '--config', '/etc/bulwark/gateway.yaml', '--host', '0.0.0.0', '--port', '8787']);
    expect(dockerfile.arg('EXPOSE')).toBe('8787');
  });

  it('sends the build only what it copies (.dockerignore)', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, ''));
    const copied = dockerfile.stages[0]!
      .filter((l) => l.startsWith('COPY '))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const path of copied) expect(allowed, path).toContain(path.replace(/\/$/, ''));
    for (const path of allowed) expect(existsSync(join(repoRoot, path)), path).toBe(true);
  });
});

const am = needTools('amtool');

describe.skipIf(am.skip)('alertmanager/alertmanager.yml (amtool check-config)', () => {
  it('is valid', () => {
    const out = execFileSync(am.path('amtool'), ['check-config', 'alertmanager/alertmanager.yml'], { cwd: repoRoot, encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
    expect(out).toMatch(/1 receivers/);
  });

  it('rejects a route to an undefined receiver (the validation is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-am-'));
    try {
      const f = join(dir, 'am.yml');
      writeFileSync(f, 'route:\n  receiver: nobody\nreceivers:\n  - name: someone\n');
      const r = spawnSync(am.path('amtool'), ['check-config', f], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const promtool3 = needTools('promtool-v3');

describe.skipIf(promtool3.skip)('prometheus/ with promtool v3 (the version docker-compose.yml runs)', () => {
  it('prometheus.yml is a valid Prometheus v3 config', () => {
    const r = spawnSync(promtool3.path('promtool-v3'), ['check', 'config', 'prometheus/prometheus.yml'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('rejects an unknown key in the otlp section (the validation is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-prom-'));
    try {
      const f = join(dir, 'prometheus.yml');
      writeFileSync(f, readFileSync(join(repoRoot, 'prometheus/prometheus.yml'), 'utf8').replace('otlp:\n', 'otlp:\n  no_such_key: true\n'));
      const r = spawnSync(promtool3.path('promtool-v3'), ['check', 'config', f], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/no_such_key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const rulesDir = join(repoRoot, 'prometheus', 'rules');
  const ruleFiles = existsSync(rulesDir) ? readdirSync(rulesDir).filter((f) => f.endsWith('.yml')) : [];
  it.skipIf(ruleFiles.length === 0)('the rule files the stack loads (prometheus/rules/*.yml) parse under Prometheus v3', () => {
    const r = spawnSync(promtool3.path('promtool-v3'), ['check', 'rules', ...ruleFiles.map((f) => join('prometheus/rules', f))], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('prometheus/prometheus.yml', () => {
  const prom = readYaml('prometheus/prometheus.yml');

  it('promotes the resource attributes the dashboards filter on', () => {
    expect(prom.otlp.promote_resource_attributes).toEqual(
      expect.arrayContaining(['service.name', 'deployment.environment.name', 'service.instance.id']),
    );
  });

  it('loads the alert rules from the mounted rules folder and sends alerts to alertmanager', () => {
    expect(prom.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(prom.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
  });

  it("scrapes the collector's own metrics", () => {
    const job = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'otel-collector');
    expect(job.static_configs[0].targets).toEqual(['otel-collector:8888']);
  });
});

describe('grafana/provisioning', () => {
  it('provisions Prometheus and Tempo with fixed uids', () => {
    const ds = readYaml('grafana/provisioning/datasources/datasources.yaml').datasources;
    expect(ds.map((d: { uid: string; type: string; url: string }) => [d.uid, d.type, d.url])).toEqual([
      ['prometheus', 'prometheus', 'http://prometheus:9090'],
      ['tempo', 'tempo', 'http://tempo:3200'],
    ]);
  });

  it('loads the bundled dashboards from /var/lib/grafana/dashboards', () => {
    const providers = readYaml('grafana/provisioning/dashboards/dashboards.yaml').providers;
    expect(providers).toHaveLength(1);
    expect(providers[0].type).toBe('file');
    expect(providers[0].options.path).toBe('/var/lib/grafana/dashboards');
  });
});
