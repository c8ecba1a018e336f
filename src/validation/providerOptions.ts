import { arrayOf, fail, jsonValue, plainObject, read, string, type Check } from './walk.js';
import type { ProviderOptions } from '../request/types.js';

/**
 * Provider options may add fields to a provider's request body, never replace the ones Bulwark
 * writes from the neutral request: each owned field maps to what to use instead. The same table
 * serves request validation, target validation and the adapters (which check again).
 */
export const OWNED_PROVIDER_FIELDS: Readonly<Record<string, string>> = {
  model: "the target's `model`",
  messages: '`messages`',
  system: "`messages` with role 'system'",
  stream: '`llm.stream()`',
  stream_options: '`llm.stream()`',
  tools: '`tools`',
  tool_choice: '`toolChoice`',
  functions: '`tools`',
  function_call: '`toolChoice`',
  parallel_tool_calls: '`parallelToolCalls`',
  max_tokens: '`maxTokens` (or the target\'s `maxOutputTokens`)',
  max_completion_tokens: '`maxTokens` (or the target\'s `maxOutputTokens`)',
  temperature: '`temperature`',
  top_p: '`topP`',
  stop: '`stop`',
  stop_sequences: '`stop`',
  n: 'nothing: Bulwark asks for one answer per request',
  response_format: '`responseFormat`',
  reasoning_effort: '`reasoning`',
  thinking: '`reasoning`',
};

/** Undefined when `key` is free; else what the caller should use instead. */
export function ownedProviderField(key: string): string | undefined {
  return Object.hasOwn(OWNED_PROVIDER_FIELDS, key) ? OWNED_PROVIDER_FIELDS[key] : undefined;
}

/**
 * A providerOptions value (on a request or a target): an object keyed by provider name, each an
 * object of request-body fields, none of them a field Bulwark owns; `betas` (the Anthropic
 * header) a list of beta names. Errors name the field (`providerOptions.openai.model`), never a value.
 */
export const providerOptions: Check<ProviderOptions> = (value, path) => {
  const byProvider = plainObject(value, path);
  for (const provider of Object.keys(byProvider)) {
    const at = `${path}.${provider}`;
    const options = read(byProvider, provider, at);
    if (options === undefined) continue;
    const body = plainObject(options, at);
    for (const key of Object.keys(body)) {
      const instead = ownedProviderField(key);
      if (instead !== undefined) fail(`${at}.${key}`, `is a field Bulwark owns and cannot be overridden; use ${instead}`);
      jsonValue(read(body, key, `${at}.${key}`), `${at}.${key}`);
    }
    if (body['betas'] !== undefined) arrayOf(string({ pattern: /^[A-Za-z0-9._-]+$/, patternText: 'a beta name ([A-Za-z0-9._-])' }))(body['betas'], `${at}.betas`);
  }
  return value as ProviderOptions;
};

/**
 * The fields one attempt sends: the target's entry for its provider, then the request's over it
 * (request wins, key by key). Entries for other providers are never read.
 */
export function mergedProviderOptions(
  provider: string,
  target: Readonly<Record<string, Record<string, unknown> | undefined>> | undefined,
  request: Readonly<Record<string, Record<string, unknown> | undefined>> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...target?.[provider], ...request?.[provider] };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged;
}
