import { inspect } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { AzureOpenAI } from 'openai';
import { describe, expect, it } from 'vitest';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { configError } from '../support/configError.js';

const openai = () => new OpenAI({ apiKey: 'sk-test-SECRET-123' });
const anthropic = () => new Anthropic({ apiKey: 'sk-ant-test-SECRET-456' });


describe('openaiTarget', () => {
  it('builds a target: provider, model, endpoint, defaults', () => {
    const target = openaiTarget({ client: openai(), model: 'gpt-4o' });
    expect(target.tier).toBe('full');
    expect(target.adapter.provider).toBe('openai');
    expect(target.adapter.model).toBe('gpt-4o');
    expect(target.adapter.serverAddress).toBe('api.openai.com');
    expect(target.adapter.serverPort).toBe(443);
    expect(target).not.toHaveProperty('contextWindow');
    expect(target).not.toHaveProperty('breakerKey');
  });

  it('passes the shared target options through', () => {
    const pricing = { inputPerMTok: 0.15, outputPerMTok: 0.6, cacheReadPerMTok: 0.075 };
    const target = openaiTarget({
      client: openai(),
      model: 'gpt-4o-mini',
      tier: 'reduced',
      contextWindow: 128_000,
      pricing,
      breakerKey: 'openai',
    });
    expect(target).toMatchObject({ tier: 'reduced', contextWindow: 128_000, pricing, breakerKey: 'openai' });
  });

  it('takes cache read and write prices, and refuses the old cachedInputPerMTok with the new name', () => {
    const pricing = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 };
    expect(openaiTarget({ client: openai(), model: 'm', pricing }).pricing).toEqual(pricing);
    expect(() => openaiTarget({ client: openai(), model: 'm', pricing: { ...pricing, cacheWritePerMTok: -1 } })).toThrow(/pricing\.cacheWritePerMTok/);
    const old = { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 } as unknown as typeof pricing;
    expect(() => openaiTarget({ client: openai(), model: 'm', pricing: old })).toThrow(/cachedInputPerMTok.*renamed cacheReadPerMTok/);
  });

  it('reads server.address / server.port from any OpenAI-compatible baseURL', () => {
    const ollama = openaiTarget({ client: new OpenAI({ apiKey: 'ollama', baseURL: 'http://localhost:11434/v1' }), model: 'llama3.1' });
    expect(ollama.adapter).toMatchObject({ provider: 'openai', serverAddress: 'localhost', serverPort: 11434 });
    const vllm = openaiTarget({ client: new OpenAI({ apiKey: 'x', baseURL: 'http://[::1]/v1' }), model: 'm', providerName: 'vllm' });
    expect(vllm.adapter).toMatchObject({ provider: 'vllm', serverAddress: '::1', serverPort: 80 });
    const azure = openaiTarget({
      client: new AzureOpenAI({ apiKey: 'az-key-123456', endpoint: 'https://myres.openai.azure.com', apiVersion: '2024-10-21' }),
      model: 'gpt-4o',
    });
    expect(azure.adapter).toMatchObject({ serverAddress: 'myres.openai.azure.com', serverPort: 443 });
  });

  it("names Azure OpenAI 'azure.ai.openai' (GenAI v1.41), so it never shares OpenAI's breaker for the same model", () => {
    const azure = openaiTarget({
      client: new AzureOpenAI({ apiKey: 'az-key-123456', endpoint: 'https://myres.openai.azure.com', apiVersion: '2024-10-21' }),
      model: 'gpt-4o',
    });
    expect(azure.adapter.provider).toBe('azure.ai.openai');
    // The v1 API of Azure OpenAI, reached with the plain client.
    const v1 = openaiTarget({ client: new OpenAI({ apiKey: 'az-key-123456', baseURL: 'https://myres.openai.azure.com/openai/v1' }), model: 'gpt-4o' });
    expect(v1.adapter.provider).toBe('azure.ai.openai');
    const openai = openaiTarget({ client: new OpenAI({ apiKey: 'k-123456' }), model: 'gpt-4o' });
    expect(openai.adapter.provider).toBe('openai');
    expect(`${azure.adapter.provider}/${azure.adapter.model}`).not.toBe(`${openai.adapter.provider}/${openai.adapter.model}`);
    const named = openaiTarget({ client: new AzureOpenAI({ apiKey: 'az-key-123456', endpoint: 'https://myres.openai.azure.com', apiVersion: '2024-10-21' }), model: 'gpt-4o', providerName: 'azure-eu' });
    expect(named.adapter.provider).toBe('azure-eu');
  });

  it('does not modify the client it was given', () => {
    const client = new OpenAI({ apiKey: 'k-123456', maxRetries: 5, timeout: 30_000 });
    openaiTarget({ client, model: 'gpt-4o' });
    expect(client.maxRetries).toBe(5);
    expect(client.timeout).toBe(30_000);
  });

  it('names the missing or invalid field', () => {
    expect(configError(() => openaiTarget({ model: 'gpt-4o' } as never)).field).toBe('openaiTarget.client');
    expect(configError(() => openaiTarget({ client: openai() } as never)).field).toBe('openaiTarget.model');
    expect(configError(() => openaiTarget({ client: openai(), model: '  ' })).field).toBe('openaiTarget.model');
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', tier: 'gold' as never })).field).toBe('openaiTarget.tier');
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', contextWindow: 0 })).field).toBe('openaiTarget.contextWindow');
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', contextWindow: 1.5 })).field).toBe('openaiTarget.contextWindow');
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', breakerKey: '' })).field).toBe('openaiTarget.breakerKey');
    expect(
      configError(() => openaiTarget({ client: openai(), model: 'm', pricing: { inputPerMTok: -1, outputPerMTok: 1 } })).field,
    ).toBe('openaiTarget.pricing.inputPerMTok');
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', maxTokensParam: 'max' as never })).field).toBe(
      'openaiTarget.maxTokensParam',
    );
    expect(configError(() => openaiTarget(undefined as never)).message).toContain('openaiTarget');
  });

  it('rejects an option it does not know, naming it (a typo is never dropped)', () => {
    const typo = configError(() => openaiTarget({ client: openai(), model: 'm', contextWindw: 8_000 } as never));
    expect(typo.field).toBe('openaiTarget.contextWindw');
    expect(typo.message).toContain("did you mean 'contextWindow'?");
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', defaultMaxTokens: 5 } as never)).field).toBe('openaiTarget.defaultMaxTokens');
  });

  it('holds prices and windows to the one finite-number rule', () => {
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', pricing: { inputPerMTok: 1, outputPerMTok: Infinity } })).field).toBe(
      'openaiTarget.pricing.outputPerMTok',
    );
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', contextWindow: Infinity })).field).toBe('openaiTarget.contextWindow');
    expect(configError(() => openaiTarget({ client: openai(), model: 'm', pricing: { inputPerMTok: 1, outputPerMTok: 1, input: 2 } as never })).field).toBe(
      'openaiTarget.pricing.input',
    );
  });

  it('refuses a client that is not an OpenAI client, at construction', () => {
    const err = configError(() => openaiTarget({ client: anthropic() as never, model: 'gpt-4o' }));
    expect(err.field).toBe('openaiTarget.client');
    expect(err.message).toContain('chat.completions.create');
  });

  it('never shows the API key when the target is inspected or serialized', () => {
    const target = openaiTarget({ client: openai(), model: 'gpt-4o' });
    expect(inspect(target, { depth: null, showHidden: true })).not.toContain('SECRET');
    expect(JSON.stringify(target)).not.toContain('SECRET');
  });
});

describe('anthropicTarget', () => {
  it('builds a target: provider, model, endpoint', () => {
    const target = anthropicTarget({ client: anthropic(), model: 'claude-sonnet-4-5' });
    expect(target.adapter).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      serverAddress: 'api.anthropic.com',
      serverPort: 443,
    });
    const local = anthropicTarget({ client: new Anthropic({ apiKey: 'k-123456', baseURL: 'http://127.0.0.1:8787' }), model: 'c' });
    expect(local.adapter).toMatchObject({ serverAddress: '127.0.0.1', serverPort: 8787 });
  });

  it('names the missing or invalid field', () => {
    expect(configError(() => anthropicTarget({ model: 'c' } as never)).field).toBe('anthropicTarget.client');
    expect(configError(() => anthropicTarget({ client: anthropic() } as never)).field).toBe('anthropicTarget.model');
    expect(configError(() => anthropicTarget({ client: anthropic(), model: 'c', defaultMaxTokens: 0 })).field).toBe(
      'anthropicTarget.defaultMaxTokens',
    );
    expect(configError(() => anthropicTarget({ client: anthropic(), model: 'c', sendSamplingParams: 'yes' as never })).field).toBe(
      'anthropicTarget.sendSamplingParams',
    );
    const typo = configError(() => anthropicTarget({ client: anthropic(), model: 'c', defaultMaxToken: 10 } as never));
    expect(typo.field).toBe('anthropicTarget.defaultMaxToken');
    expect(typo.message).toContain("did you mean 'defaultMaxTokens'?");
    expect(configError(() => anthropicTarget({ client: anthropic(), model: 'c', maxTokensParam: 'max_tokens' } as never)).field).toBe(
      'anthropicTarget.maxTokensParam',
    );
    const wrong = configError(() => anthropicTarget({ client: openai() as never, model: 'c' }));
    expect(wrong.field).toBe('anthropicTarget.client');
    expect(wrong.message).toContain('messages.create');
  });

  it('does not modify the client it was given', () => {
    const client = new Anthropic({ apiKey: 'k-123456', maxRetries: 4 });
    anthropicTarget({ client, model: 'c' });
    expect(client.maxRetries).toBe(4);
  });

  it('never shows the API key when the target is inspected or serialized', () => {
    const target = anthropicTarget({ client: anthropic(), model: 'c' });
    expect(inspect(target, { depth: null, showHidden: true })).not.toContain('SECRET');
    expect(JSON.stringify(target)).not.toContain('SECRET');
  });
});
