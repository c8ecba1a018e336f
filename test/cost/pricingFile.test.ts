import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { pricingFromFile } from '../../src/cost/pricingFile.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { createFakeClock } from '../support/fakeClock.js';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-prices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('pricingFromFile', () => {
  it('reads negotiated prices that the chain then charges (merged over the built-in table)', async () => {
    const path = file('negotiated.json', JSON.stringify({ 'gpt-4o': { inputPerMTok: 2, outputPerMTok: 8, cacheReadPerMTok: 1 } }));
    const pricing = pricingFromFile(path);
    expect(pricing).toEqual({ 'gpt-4o': { inputPerMTok: 2, outputPerMTok: 8, cacheReadPerMTok: 1 } });
    const adapter = scriptedAdapter('openai', 'gpt-4o-2024-08-06').then({ ok: 'fine', usage: { inputTokens: 1_000_000, outputTokens: 500_000 } });
    const llm = createResilientLLM({ name: 'priced', targets: [scriptedTarget(adapter)], pricing, telemetry: false, clock: createFakeClock(0) });
    // A dated snapshot id finds its family's negotiated row: 1 M input × $2 + 0.5 M output × $8.
    expect((await llm.chat({ messages: [{ role: 'user', content: 'hi' }] })).costUsd).toBeCloseTo(6, 10);
    await llm.close();
  });

  it.each([
    ['a missing file', () => join(dir, 'missing.json'), /pricing file .*missing\.json cannot be read \(ENOENT\)/],
    ['invalid JSON', () => file('broken.json', '{ "gpt-4o": { "inputPerMTok": 2, '), /pricing file .*broken\.json is not valid JSON/],
    ['an array', () => file('array.json', '[{ "gpt-4o": {} }]'), /pricing file .*array\.json must hold one JSON object/],
    ['a negative price', () => file('negative.json', '{ "gpt-4o": { "inputPerMTok": -2, "outputPerMTok": 8 } }'), /negative\.json \['gpt-4o'\]\.inputPerMTok must be >= 0/],
    ['a missing output price', () => file('partial.json', '{ "o3": { "inputPerMTok": 2 } }'), /partial\.json \['o3'\]\.outputPerMTok/],
    ['a price given as a string', () => file('string.json', '{ "o3": { "inputPerMTok": "2", "outputPerMTok": 8 } }'), /string\.json \['o3'\]\.inputPerMTok must be a finite number/],
    ['a misspelt field', () => file('typo.json', '{ "o3": { "inputPerMtok": 2, "outputPerMTok": 8 } }'), /typo\.json \['o3'\]/],
    ['an entry that is not an object', () => file('number.json', '{ "o3": 2 }'), /number\.json \['o3'\]/],
    ['an empty model name', () => file('empty.json', '{ "": { "inputPerMTok": 1, "outputPerMTok": 1 } }'), /empty\.json \[''\] has an empty model name/],
  ])('%s is a ConfigError naming the file and the entry', (_what, path, message) => {
    let error: unknown;
    try {
      pricingFromFile(path());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
  });
});
