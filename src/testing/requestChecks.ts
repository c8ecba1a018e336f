/**
 * What the fault server checks in a request body before playing its script, as the real APIs do
 * with a 400: the structured-output, reasoning and prompt-cache fields (so a test sees a wrong wire
 * shape fail the way the provider would fail it, instead of a mock that accepts anything).
 *
 * - OpenAI: `response_format` (`json_schema` needs `json_schema.name` [a-zA-Z0-9_-]{1,64} and a `schema`
 *   object), `reasoning_effort` (none, minimal, low, medium, high, xhigh).
 * - Anthropic: `output_config.format` (`json_schema` with a `schema` object); `thinking` (`enabled` needs an integer
 *   `budget_tokens` >= 1024 and < `max_tokens`); every `thinking` block sent back must carry the signature this
 *   server gave it ({@link thinkingSignature}); at most 4 `cache_control` breakpoints, each
 *   `{ type: 'ephemeral', ttl?: '5m' | '1h' }`.
 */
import { createHash } from 'node:crypto';

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A problem the provider would answer with a 400, and OpenAI's `param` for it. */
export interface RequestProblem {
  message: string;
  param?: string;
}

const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function checkOpenAIRequest(body: Loose): RequestProblem | undefined {
  const format = body['response_format'];
  if (format !== undefined) {
    if (!isObj(format)) return { message: "Invalid type for 'response_format': expected an object.", param: 'response_format' };
    if (format['type'] === 'json_schema') {
      const spec = format['json_schema'];
      if (!isObj(spec)) return { message: "Missing required parameter: 'response_format.json_schema'.", param: 'response_format.json_schema' };
      if (typeof spec['name'] !== 'string' || !SCHEMA_NAME.test(spec['name'])) {
        return { message: "Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$.", param: 'response_format.json_schema.name' };
      }
      if (!isObj(spec['schema'])) return { message: "Invalid 'response_format.json_schema.schema': expected an object.", param: 'response_format.json_schema.schema' };
    } else if (format['type'] !== 'json_object' && format['type'] !== 'text') {
      return { message: "Invalid value for 'response_format.type'.", param: 'response_format.type' };
    }
  }
  const effort = body['reasoning_effort'];
  if (effort !== undefined && effort !== null && !(typeof effort === 'string' && EFFORTS.has(effort))) {
    return { message: "Invalid value for 'reasoning_effort'.", param: 'reasoning_effort' };
  }
  return undefined;
}

/** The signature this server puts on a thinking block: a digest of its text, so a changed block fails. */
export function thinkingSignature(thinking: string): string {
  return `sig_${createHash('sha256').update(thinking).digest('base64url').slice(0, 32)}`;
}

/** Whether the request turned extended thinking on. */
export function thinkingEnabled(body: Loose): boolean {
  const thinking = body['thinking'];
  return isObj(thinking) && (thinking['type'] === 'enabled' || thinking['type'] === 'adaptive');
}

export function checkAnthropicRequest(body: Loose): RequestProblem | undefined {
  const output = body['output_config'];
  if (output !== undefined) {
    if (!isObj(output)) return { message: 'output_config: Input should be an object' };
    const format = output['format'];
    if (format !== undefined && format !== null && !(isObj(format) && format['type'] === 'json_schema' && isObj(format['schema']))) {
      return { message: "output_config.format: expected { type: 'json_schema', schema: object }" };
    }
  }
  const thinking = body['thinking'];
  if (thinking !== undefined) {
    if (!isObj(thinking)) return { message: 'thinking: Input should be an object' };
    if (thinking['type'] === 'enabled') {
      const budget = thinking['budget_tokens'];
      const maxTokens = body['max_tokens'];
      if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024) return { message: 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024' };
      if (typeof maxTokens === 'number' && budget >= maxTokens) return { message: '`max_tokens` must be greater than `thinking.budget_tokens`.' };
    } else if (thinking['type'] !== 'disabled' && thinking['type'] !== 'adaptive') {
      return { message: "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'" };
    }
  }
  return checkThinkingBlocks(body) ?? checkCacheControl(body);
}

function checkThinkingBlocks(body: Loose): RequestProblem | undefined {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  for (const [i, message] of messages.entries()) {
    const content = isObj(message) ? message['content'] : undefined;
    if (!Array.isArray(content)) continue;
    for (const [j, block] of content.entries()) {
      if (!isObj(block) || block['type'] !== 'thinking') continue;
      if (typeof block['thinking'] !== 'string' || block['signature'] !== thinkingSignature(block['thinking'])) {
        return { message: `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block` };
      }
    }
  }
  return undefined;
}

/** Every block that can carry a breakpoint: system blocks, message content blocks, tools. */
function cacheableBlocks(body: Loose): unknown[] {
  const blocks: unknown[] = [];
  const system = body['system'];
  if (Array.isArray(system)) blocks.push(...system);
  for (const message of Array.isArray(body['messages']) ? body['messages'] : []) {
    const content = isObj(message) ? message['content'] : undefined;
    if (Array.isArray(content)) blocks.push(...content);
  }
  if (Array.isArray(body['tools'])) blocks.push(...body['tools']);
  return blocks;
}

function checkCacheControl(body: Loose): RequestProblem | undefined {
  let found = 0;
  for (const block of cacheableBlocks(body)) {
    const cc = isObj(block) ? block['cache_control'] : undefined;
    if (cc === undefined || cc === null) continue;
    if (!isObj(cc) || cc['type'] !== 'ephemeral' || (cc['ttl'] !== undefined && cc['ttl'] !== '5m' && cc['ttl'] !== '1h')) {
      return { message: "cache_control: expected { type: 'ephemeral', ttl?: '5m' | '1h' }" };
    }
    found += 1;
  }
  if (found > 4) return { message: `A maximum of 4 blocks with cache_control may be provided. Found ${found}.` };
  return undefined;
}

/**
 * The JSON schema a request asks its answer to follow (OpenAI `response_format.json_schema.schema`,
 * Anthropic `output_config.format.schema`), if any.
 */
export function requestedSchema(body: Loose): Loose | undefined {
  const format = body['response_format'];
  if (isObj(format) && format['type'] === 'json_schema' && isObj(format['json_schema']) && isObj(format['json_schema']['schema'])) {
    return format['json_schema']['schema'];
  }
  const output = body['output_config'];
  if (isObj(output) && isObj(output['format']) && isObj(output['format']['schema'])) return output['format']['schema'];
  return undefined;
}

/**
 * A small value valid against common schemas (the structured answer a script did not spell out): an
 * object's required properties, an enum's / const's first value, the minimum of a number, `[]`
 * (or `minItems` copies), `'mock'`. Enough for the keywords structured output supports.
 */
export function exampleOf(schema: unknown, depth = 0): unknown {
  if (!isObj(schema) || depth > 20) return null;
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) return exampleOf(options[0], depth + 1);
  }
  const type = Array.isArray(schema['type']) ? schema['type'][0] : schema['type'];
  switch (type) {
    case 'object': {
      const properties = isObj(schema['properties']) ? schema['properties'] : {};
      const required = Array.isArray(schema['required']) ? schema['required'].filter((k): k is string => typeof k === 'string') : [];
      return Object.fromEntries(required.map((key) => [key, exampleOf(properties[key], depth + 1)]));
    }
    case 'array': {
      const min = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      return Array.from({ length: min }, () => exampleOf(schema['items'], depth + 1));
    }
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'string': {
      const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
      return 'mock'.padEnd(min, 'k');
    }
    default:
      return isObj(schema['properties']) ? exampleOf({ ...schema, type: 'object' }, depth + 1) : null;
  }
}
