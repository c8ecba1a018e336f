/**
 * Each example in examples/ run as its npm script runs it (a separate Node process under tsx), against the
 * in-process fault server: it must exit 0 and its output must show the scripted outage of the primary, the
 * fallback, and the backup's answer reaching the agent, in that order.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };

async function runExample(name: string): Promise<string> {
  const script = pkg.scripts[`example:${name}`];
  expect(script).toBe(`tsx examples/${name}.ts`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], { cwd: root, timeout: 60_000 });
  return stdout;
}

/** The lines of `stdout` matching each pattern, in order; fails naming the first pattern not found after the previous. */
function expectInOrder(stdout: string, patterns: RegExp[]) {
  const lines = stdout.split('\n');
  let at = -1;
  for (const pattern of patterns) {
    const next = lines.findIndex((line, i) => i > at && pattern.test(line));
    expect(next, `${pattern} after line ${at} of:\n${stdout}`).toBeGreaterThan(at);
    at = next;
  }
}

const outageThenFallback = [
  /\[bulwark\] answered by openai\/gpt-4o \(outcome success, 1 attempt/,
  /\[bulwark\] openai\/gpt-4o attempt 1 failed: 503 server_error/,
  /\[bulwark\] openai\/gpt-4o attempt 2 failed: 503 server_error/,
  /\[bulwark\] fallback openai\/gpt-4o → anthropic\/claude-sonnet-4-6 \(server_error\)/,
  /\[bulwark\] answered by anthropic\/claude-sonnet-4-6 \(outcome success_via_fallback/,
];

describe('examples/', () => {
  it('every example marks its one Bulwark line', () => {
    for (const name of Object.keys(pkg.scripts).filter((s) => s.startsWith('example:'))) {
      const source = readFileSync(`${root}examples/${name.slice('example:'.length)}.ts`, 'utf8');
      expect(source.match(/\/\/ ← the one Bulwark line/g), name).toHaveLength(1);
    }
  });

  it('openai-tools: a plain openai tool loop; the tool turn on the primary, the answer from the backup', { timeout: 60_000 }, async () => {
    const stdout = await runExample('openai-tools');
    expectInOrder(stdout, [
      outageThenFallback[0]!,
      /^agent: turn 1: tool get_weather\(\{"city":"Paris"\}\)/,
      ...outageThenFallback.slice(1),
      /^agent: final answer: It is sunny and 21 °C in Paris\.$/,
    ]);
  });

  it('ai-sdk-agent: a ToolLoopAgent with two tools; the backup carries the loop on after the outage', { timeout: 60_000 }, async () => {
    const stdout = await runExample('ai-sdk-agent');
    expectInOrder(stdout, [
      outageThenFallback[0]!,
      /^agent: tool get_weather\(\{"city":"Paris"\}\)$/,
      ...outageThenFallback.slice(1),
      /^agent: tool get_time\(\{"city":"Paris"\}\)$/,
      /\[bulwark\] answered by anthropic\/claude-sonnet-4-6/,
      /^agent: final answer: In Paris it is sunny and 21 °C; the local time is 12:00\.$/,
      /^agent: 3 steps$/,
    ]);
  });

  it('openai-agents: a handoff on the primary, then the weather agent\'s tool turn and answer from the backup', { timeout: 60_000 }, async () => {
    const stdout = await runExample('openai-agents');
    expectInOrder(stdout, [
      outageThenFallback[0]!,
      /^agent: handoff triage_agent → weather_agent$/,
      ...outageThenFallback.slice(1),
      /^agent: weather_agent calls get_weather\(\{"city":"Paris"\}\)$/,
      /\[bulwark\] answered by anthropic\/claude-sonnet-4-6/,
      /^agent: final answer \(weather_agent\): It is sunny and 21 °C in Paris\.$/,
    ]);
  });

  it('langchain-chain: step 1 of the LCEL chain on the primary, step 2 on the backup', { timeout: 60_000 }, async () => {
    const stdout = await runExample('langchain-chain');
    expectInOrder(stdout, [
      outageThenFallback[0]!,
      /^chain: step 1 \(draft\): Paris: sunny, 21 °C, light wind from the west\.$/,
      ...outageThenFallback.slice(1),
      /^chain: step 2 \(translation\): Paris : ensoleillé, 21 °C, vent léger d’ouest\.$/,
    ]);
  });
});
