import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkAnthropicRequest, checkOpenAIRequest, exampleOf, requestedSchema, thinkingSignature } from '../../src/testing/requestChecks.js';
import { TRIAGE_FORMAT } from '../../demo/workload.js';

describe('the fault server checks structured-output, reasoning and prompt-cache fields as the providers do', () => {
  it('OpenAI: response_format json_schema needs a valid name and a schema; reasoning_effort a known value', () => {
    const schema = { type: 'object' };
    expect(checkOpenAIRequest({ response_format: { type: 'json_schema', json_schema: { name: 'ok', schema } } })).toBeUndefined();
    expect(checkOpenAIRequest({ response_format: { type: 'json_schema', json_schema: { schema } } })?.param).toBe('response_format.json_schema.name');
    expect(checkOpenAIRequest({ response_format: { type: 'json_schema', json_schema: { name: 'ok' } } })?.param).toBe('response_format.json_schema.schema');
    expect(checkOpenAIRequest({ reasoning_effort: 'extreme' })?.param).toBe('reasoning_effort');
  });

  it('Anthropic: thinking budget at least 1024 and below max_tokens; signed thinking blocks; at most 4 breakpoints', () => {
    expect(checkAnthropicRequest({ max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } })).toBeUndefined();
    expect(checkAnthropicRequest({ max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 512 } })?.message).toContain('1024');
    expect(checkAnthropicRequest({ max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 2048 } })?.message).toContain('max_tokens');
    const thought = { type: 'thinking', thinking: 'hmm', signature: thinkingSignature('hmm') };
    expect(checkAnthropicRequest({ messages: [{ role: 'assistant', content: [thought] }] })).toBeUndefined();
    expect(checkAnthropicRequest({ messages: [{ role: 'assistant', content: [{ ...thought, thinking: 'hmm!' }] }] })?.message).toContain('signature');
    const block = { type: 'text', text: 'x', cache_control: { type: 'ephemeral' } };
    expect(checkAnthropicRequest({ messages: [{ role: 'user', content: [block, block, block, block] }] })).toBeUndefined();
    expect(checkAnthropicRequest({ system: [block], messages: [{ role: 'user', content: [block, block, block, block] }] })?.message).toContain('Found 5');
    expect(checkAnthropicRequest({ output_config: { format: { type: 'json_schema' } } })?.message).toContain('output_config.format');
  });

  it('answers a structured request the script did not spell out with a valid instance of its schema', () => {
    const body = { response_format: { type: 'json_schema', json_schema: { name: 't', schema: TRIAGE_FORMAT.schema } } };
    const schema = requestedSchema(body)!;
    const value = exampleOf(schema);
    expect(new Ajv({ strict: false }).validate(schema, value)).toBe(true);
    expect(requestedSchema({ output_config: { format: { type: 'json_schema', schema } } })).toBe(schema);
  });
});
