/**
 * A Python agent on the official `openai` Python client (pinned in scripts/python/gateway-requirements.txt,
 * venv built by scripts/python-venv.sh) → the gateway PROCESS (`bulwark gateway --config`) → the fault
 * server: chat, stream, tools (a two-turn tool loop), failover to another provider (chat and stream),
 * the alias list, a wrong key (401) and an unknown alias (404). What the client saw is checked against
 * what the fault server received.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { needVenv, repoRoot } from '../support/tools.js';
import { sha256, startGatewayProcess, writeConfigFile, type GatewayProcess } from './gatewayProcess.js';

const venv = needVenv('gateway');
const GATEWAY_KEY = 'bk-python-agent-0123456789abcdef';
const UPSTREAM_KEYS = { OPENAI_API_KEY: 'sk-upstream-openai-python-test', ANTHROPIC_API_KEY: 'sk-ant-upstream-python-test' };

describe.skipIf(venv.skip)('the official openai Python client against the gateway process', () => {
  let dir: string;
  let server: FaultServer;
  let gateway: GatewayProcess;
  let result: any;
  let agentOutput: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-python-'));
    server = await startFaultServer({ seed: 14 });
    server.script({ route: 'py-tools' }, {
      sequence: [fault.ok({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_weather_1' }] })],
      then: fault.ok({ text: 'It is 21 °C in Paris.' }),
    });
    server.script({ route: 'py-down' }, { then: fault.serverError(500) });
    server.script({ route: 'py-backup' }, { then: fault.ok({ text: 'Answered by the backup.' }) });
    const target = (provider: 'openai' | 'anthropic', route: string, model: string) => ({
      provider,
      model,
      apiKey: provider === 'openai' ? 'env:OPENAI_API_KEY' : 'env:ANTHROPIC_API_KEY',
      baseURL: server.baseURL(provider, route),
    });
    const config = writeConfigFile(dir, 'bulwark.config.yaml', {
      chains: {
        support: { targets: [target('openai', 'py-primary', 'gpt-4o')] },
        tools: { targets: [target('openai', 'py-tools', 'gpt-4o')] },
        failover: {
          targets: [target('openai', 'py-down', 'gpt-4o'), target('anthropic', 'py-backup', 'claude-haiku-4-5')],
          retry: { maxAttempts: 1 },
        },
      },
      routes: { 'support-agent': 'support', 'tools-agent': 'tools', 'failover-agent': 'failover' },
      clients: [{ name: 'python-agent', keyHash: sha256(GATEWAY_KEY) }],
    });
    gateway = await startGatewayProcess(config, UPSTREAM_KEYS);
    const { stdout } = await promisify(execFile)(venv.python(), [join(repoRoot, 'test/gateway/python/agent.py')], {
      env: { PATH: process.env.PATH ?? '', GATEWAY_URL: gateway.url, GATEWAY_KEY },
      timeout: 60_000,
    });
    agentOutput = stdout;
    result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)![1]!);
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the pinned client', () => {
    expect(result.openai_version).toBe('3.60.0');
    expect(agentOutput).toMatch(/^python agent: Mock reply from py-primary \(gpt-4o\)\.$/m);
  });

  it('chat: the answer, its usage and Bulwark facts as headers', () => {
    expect(result.chat).toMatchObject({
      text: 'Mock reply from py-primary (gpt-4o).',
      finish_reason: 'stop',
      facts: { 'x-bulwark-tier': 'full', 'x-bulwark-target': 'openai/gpt-4o', 'x-bulwark-fallback': 'false', 'x-bulwark-attempts': '1' },
    });
    expect(result.chat.total_tokens).toBeGreaterThan(0);
  });

  it('stream: the same text in deltas, a finish reason, usage in the last chunk', () => {
    expect(result.stream.text).toBe('Mock reply from py-primary (gpt-4o).');
    expect(result.stream.finish_reason).toBe('stop');
    expect(result.stream.total_tokens).toBeGreaterThan(0);
    expect(result.stream.chunks).toBeGreaterThan(2);
    const streamed = server.requests.filter((r) => r.route === 'py-primary' && r.stream);
    expect(streamed).toHaveLength(1);
  });

  it('tools: the tool call reaches the agent, and its result reaches the model', () => {
    expect(result.tools).toEqual({
      finish_reason: 'tool_calls',
      call: { id: 'call_weather_1', name: 'get_weather', arguments: { city: 'Paris' } },
      answer: 'It is 21 °C in Paris.',
    });
    const [, second] = server.requests.filter((r) => r.route === 'py-tools');
    const messages = (second!.body as { messages: Array<{ role: string; tool_call_id?: string; content?: unknown }> }).messages;
    expect(messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_weather_1' });
    expect(JSON.stringify(messages.at(-1)!.content)).toContain('temperature_c');
  });

  it('failover: the primary fails, the other provider answers (tier reduced after a hop), chat and stream', () => {
    expect(result.failover).toEqual({
      text: 'Answered by the backup.',
      facts: { 'x-bulwark-tier': 'reduced', 'x-bulwark-target': 'anthropic/claude-haiku-4-5', 'x-bulwark-fallback': 'true', 'x-bulwark-attempts': '2' },
    });
    expect(result.failover_stream.text).toBe('Answered by the backup.');
    expect(server.hits({ route: 'py-down' })).toBe(2);
    expect(server.hits({ route: 'py-backup', provider: 'anthropic' })).toBe(2);
  });

  it('lists the aliases; a wrong key is 401 and an unknown alias 404, neither reaching a provider', () => {
    expect(result.models).toEqual(['failover-agent', 'support-agent', 'tools-agent']);
    expect(result.bad_key).toEqual({ status: 401 });
    expect(result.unknown_model).toEqual({ status: 404 });
    // 1 (the three lines) + chat + stream on the primary; nothing else reached it.
    expect(server.hits({ route: 'py-primary' })).toBe(3);
  });

  it('logs one access-log line per request, naming the client and never its key', () => {
    const log = gateway.accessLog();
    expect(log.filter((l) => l.route === '/v1/chat/completions' && l.status === 200 && l.client === 'python-agent')).toHaveLength(7);
    expect(gateway.stdout()).not.toContain(GATEWAY_KEY);
    expect(gateway.stdout()).not.toContain(UPSTREAM_KEYS.OPENAI_API_KEY);
  });
});
