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
};

/** Undefined when `key` is free; else what the caller should use instead. */
export function ownedProviderField(key: string): string | undefined {
  return Object.hasOwn(OWNED_PROVIDER_FIELDS, key) ? OWNED_PROVIDER_FIELDS[key] : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks a providerOptions value; returns the problem with the path of the field at fault
 * (`providerOptions.openai.model`), or undefined. Never quotes values.
 */
export function providerOptionsProblem(value: unknown, path: string): { field: string; problem: string } | undefined {
  if (!isPlainObject(value)) return { field: path, problem: 'must be an object keyed by provider name ({ openai: {…}, anthropic: {…} })' };
  for (const [provider, options] of Object.entries(value)) {
    const at = `${path}.${provider}`;
    if (options === undefined) continue;
    if (!isPlainObject(options)) return { field: at, problem: 'must be an object of request-body fields' };
    for (const key of Object.keys(options)) {
      const instead = ownedProviderField(key);
      if (instead !== undefined) return { field: `${at}.${key}`, problem: `is a field Bulwark owns and cannot be overridden; use ${instead}` };
    }
    const betas = options['betas'];
    if (betas !== undefined && !(Array.isArray(betas) && betas.every((b) => typeof b === 'string' && /^[A-Za-z0-9._-]+$/.test(b)))) {
      return { field: `${at}.betas`, problem: 'must be an array of beta names ([A-Za-z0-9._-])' };
    }
  }
  return undefined;
}

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
