/**
 * Request validation for content parts and for what callers coming from a provider's own SDK
 * send by habit: OpenAI / Anthropic spellings of Bulwark fields and OpenAI's native shapes.
 * Part of the one validation walk (validation/walk.ts), called from validateRequest.ts.
 */
import { cacheControlCheck } from './promptCache.js';
import { describe, didYouMean, fail, fields, plainObject, read, string, type Check } from './walk.js';
import { parseDataUrl, sniffImageType } from '../request/contentParts.js';
import type { ContentPart } from '../request/types.js';

const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

/** A URL (string or `URL`), a data URL or bytes; anything else names the field, never the value. */
function binarySource(what: 'image' | 'data'): Check<{ dataUrlType: string | undefined; bytes: Uint8Array | undefined }> {
  return (value, path) => {
    if (value instanceof Uint8Array) return { dataUrlType: undefined, bytes: value };
    const text = value instanceof URL ? value.href : typeof value === 'string' ? value : undefined;
    if (text !== undefined && text.startsWith('data:')) {
      const parsed = parseDataUrl(text);
      if (!parsed) fail(path, 'is a data URL that could not be decoded (expected data:<media type>;base64,<data>)');
      return { dataUrlType: parsed.mediaType, bytes: parsed.bytes };
    }
    if (text !== undefined && /^https?:\/\/\S+$/i.test(text)) return { dataUrlType: undefined, bytes: undefined };
    const kind = text !== undefined ? `a ${value instanceof URL ? 'URL' : 'string'} that is neither an http(s) URL nor a data URL` : describe(value);
    return fail(path, `must be an http(s) URL, a data URL or a Uint8Array of ${what === 'image' ? 'image' : 'file'} bytes, got ${kind}`);
  };
}

const mediaType = string({ pattern: MEDIA_TYPE, patternText: 'a media type (type/subtype)' });

/** The declared media type and the data URL's must agree: a PNG labelled image/jpeg is refused by both providers. */
function agree(declared: string | undefined, fromDataUrl: string | undefined, path: string): void {
  if (declared !== undefined && fromDataUrl !== undefined && declared.toLowerCase() !== fromDataUrl) {
    fail(`${path}.mediaType`, `contradicts the media type of its data URL (${describe(declared)} vs ${describe(fromDataUrl)})`);
  }
}

const PART_TYPES = ['text', 'image', 'file'];

/** What an OpenAI / Anthropic part type is called here. */
const FOREIGN_PART_TYPES: Record<string, string> = {
  image_url: "{ type: 'image', image: <URL, data URL or bytes> }",
  input_image: "{ type: 'image', image: <URL, data URL or bytes> }",
  document: "{ type: 'file', data: <URL, data URL or bytes>, mediaType }",
  input_file: "{ type: 'file', data: <URL, data URL or bytes>, mediaType }",
};

const part: Check<ContentPart> = (value, path) => {
  const p = plainObject(value, path);
  const type = read(p, 'type', `${path}.type`);
  if (typeof type !== 'string' || !PART_TYPES.includes(type)) {
    const foreign = typeof type === 'string' && Object.hasOwn(FOREIGN_PART_TYPES, type) ? FOREIGN_PART_TYPES[type] : undefined;
    fail(`${path}.type`, `must be 'text', 'image' or 'file', got ${describe(type)}${foreign ? ` (that is another API's part; Bulwark's is ${foreign})` : ''}`);
  }
  switch (type) {
    case 'text':
      fields({ type: () => undefined, text: { required: true, check: string() }, cacheControl: cacheControlCheck }, { unknown: 'reject' })(p, path);
      break;
    case 'image': {
      const checked = fields({ type: () => undefined, image: { required: true, check: binarySource('image') }, mediaType, cacheControl: cacheControlCheck }, { unknown: 'reject' })(p, path);
      const source = checked['image'] as ReturnType<ReturnType<typeof binarySource>>;
      const declared = checked['mediaType'] as string | undefined;
      agree(declared, source.dataUrlType, path);
      const type = declared?.toLowerCase() ?? source.dataUrlType;
      if (type !== undefined && !type.startsWith('image/')) fail(`${path}.mediaType`, `must be an image type, got ${describe(type)}`);
      if (source.bytes && type === undefined && sniffImageType(source.bytes) === undefined) {
        fail(`${path}.mediaType`, 'is required: the bytes are not PNG, JPEG, GIF or WebP');
      }
      break;
    }
    case 'file': {
      const checked = fields(
        { type: () => undefined, data: { required: true, check: binarySource('data') }, mediaType: { required: true, check: mediaType }, filename: string({ nonEmpty: true }), cacheControl: cacheControlCheck },
        { unknown: 'reject' },
      )(p, path);
      agree(checked['mediaType'] as string, (checked['data'] as ReturnType<ReturnType<typeof binarySource>>).dataUrlType, path);
      break;
    }
  }
  return p as unknown as ContentPart;
};

/** `content` of a user or tool message: a string, or parts. */
export const messageContent: Check<string | ContentPart[]> = (value, path) => {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) fail(path, `must be a string or an array of parts ({ type: 'text' | 'image' | 'file', … }), got ${describe(value)}`);
  // Both providers answer 400 to a message with no parts: refused here, before any call or breaker sees it.
  if (value.length === 0) fail(path, 'is an empty array of parts: give at least one part, or a string');
  for (let i = 0; i < value.length; i++) {
    const at = `${path}[${i}]`;
    if (!Object.prototype.hasOwnProperty.call(value, i)) fail(at, 'is an empty slot (a hole in the array)');
    part(read(value, String(i), at), at);
  }
  return value as ContentPart[];
};

// ---------------------------------------------------------------------------------------------
// Habits from the providers' own SDKs

const OPENAI_FRONT = "OpenAI's own wire format is for the OpenAI front, not llm.chat()";

/** OpenAI's tool shape `{ type: 'function', function: { … } }` where Bulwark expects `{ name, description?, parameters }`. */
export function rejectOpenAITool(value: unknown, path: string): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'function' in value && !('name' in value)) {
    fail(path, `is an OpenAI Chat Completions tool ({ type: 'function', function: {…} }); Bulwark expects { name, description?, parameters } (${OPENAI_FRONT})`);
  }
}

/** OpenAI's message fields where Bulwark has its own: `tool_calls`, `tool_call_id`. */
export function rejectOpenAIMessageFields(message: Record<string, unknown>, path: string): void {
  if ('tool_calls' in message) {
    fail(`${path}.tool_calls`, `is OpenAI's shape; Bulwark expects toolCalls: [{ id, name, arguments }] (${OPENAI_FRONT})`);
  }
  if ('tool_call_id' in message) fail(`${path}.tool_call_id`, `is OpenAI's spelling; Bulwark expects toolCallId (${OPENAI_FRONT})`);
}

/** OpenAI / Anthropic spellings of request fields, and what Bulwark calls them. */
const PROVIDER_SPELLINGS: Record<string, string> = {
  max_tokens: 'maxTokens',
  max_completion_tokens: 'maxTokens',
  max_output_tokens: 'maxTokens',
  top_p: 'topP',
  tool_choice: 'toolChoice',
  stop_sequences: 'stop',
  parallel_tool_calls: 'parallelToolCalls',
  provider_options: 'providerOptions',
  response_format: 'responseFormat',
  reasoning_effort: 'reasoning',
  thinking: 'reasoning',
  total_timeout_ms: 'totalTimeoutMs',
  max_cost_usd: 'maxCostUsd',
};

/** Top-level fields with no Bulwark counterpart, and where they belong instead. */
const ELSEWHERE: Record<string, string> = {
  model: "the model is the target's (openaiTarget({ model }), …), not the request's",
  stream: 'for a streamed answer call llm.stream()',
  n: 'Bulwark asks for one answer per request; send several requests for several answers',
  system: "put it in messages as { role: 'system', content }",
};

/**
 * Unknown top-level fields are refused, naming them: a field Bulwark does not know would be
 * dropped without a word (JSON mode, a token cap silently gone). Provider spellings of a field
 * Bulwark has get its name; other provider fields are pointed to providerOptions.
 */
export function rejectUnknownRequestFields(request: object, known: readonly string[]): void {
  for (const key of Object.keys(request)) {
    if (known.includes(key)) continue;
    const spelled = Object.hasOwn(PROVIDER_SPELLINGS, key) ? PROVIDER_SPELLINGS[key] : undefined;
    if (spelled !== undefined && known.includes(spelled)) fail(key, `is not a Bulwark field: did you mean '${spelled}'?`);
    const elsewhere = Object.hasOwn(ELSEWHERE, key) ? ELSEWHERE[key] : undefined;
    if (elsewhere !== undefined) fail(key, `is not a request field: ${elsewhere}`);
    const close = didYouMean(key, known);
    if (close !== undefined) fail(key, `is not a request field: did you mean '${close}'?`);
    const named = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(key) ? `; a provider's own field goes in providerOptions (providerOptions: { openai: { ${key}: … } })` : '';
    fail(key.length <= 40 ? key : `${key.slice(0, 40)}…`, `is not a request field${named} (known: ${known.join(', ')})`);
  }
}
