import { BulwarkError } from '../errors/bulwarkError.js';
import {
  Invalid,
  MAX_TIMER_MS,
  arrayOf,
  boolean,
  describe,
  fail,
  fields,
  finite,
  jsonValue,
  oneOf,
  optional,
  plainObject,
  readField,
  rejectUnknownKeys,
  string,
  type Check,
  type FieldSpec,
} from './walk.js';
import { cacheControlCheck, cacheControlCrossFieldRules } from './promptCache.js';
import { reasoningBlockCheck, reasoningCheck, reasoningCrossFieldRules } from './reasoning.js';
import { responseFormatCheck } from './structuredOutput.js';
import { ROLES, TOOL_CHOICES, type ChatRequest, type Message } from '../request/types.js';
import { providerOptions } from './providerOptions.js';
import { messageContent, rejectOpenAIMessageFields, rejectOpenAITool, rejectUnknownRequestFields } from './validateParts.js';
import { estimatedContentChars } from '../request/contentParts.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const toolCall = fields({
  id: { required: true, check: string({ nonEmpty: true }) },
  name: { required: true, check: string({ nonEmpty: true }) },
  arguments: { required: true, check: string() },
});

/** A message, by role. Only the role's own fields are read (as the adapters read them). */
/**
 * The fields each role takes. Any other key on a message is refused, naming it: a field Bulwark
 * does not read would be dropped without a word (OpenAI's `name`, a misspelt `toolCalls`).
 */
export const MESSAGE_FIELDS: Record<Message['role'], readonly string[]> = {
  system: ['role', 'content', 'cacheControl'],
  developer: ['role', 'content', 'cacheControl'],
  user: ['role', 'content', 'cacheControl'],
  assistant: ['role', 'content', 'toolCalls', 'reasoning', 'cacheControl'],
  tool: ['role', 'toolCallId', 'content', 'cacheControl'],
};

const anyString = string();
const nonEmptyString = string({ nonEmpty: true });
const optionalToolCalls = optional(arrayOf(toolCall));
const optionalReasoning = optional(arrayOf(reasoningBlockCheck));

const message: Check<Message> = (value, path) => {
  const m = plainObject(value, path);
  const role = readField(m, 'role', path);
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    fail(`${path}.role`, `must be one of ${ROLES.join(', ')}; got ${describe(role)}`);
  }
  rejectOpenAIMessageFields(m, path);
  rejectUnknownKeys(m, MESSAGE_FIELDS[role as Message['role']], path);
  const cacheControl = readField(m, 'cacheControl', path);
  if (cacheControl !== undefined) cacheControlCheck(cacheControl, `${path}.cacheControl`);
  const content = readField(m, 'content', path);
  switch (role as Message['role']) {
    case 'system':
    case 'developer':
      anyString(content, `${path}.content`);
      break;
    case 'user':
      messageContent(content, `${path}.content`);
      break;
    case 'assistant': {
      if (content !== undefined && content !== null) anyString(content, `${path}.content`);
      const calls = optionalToolCalls(readField(m, 'toolCalls', path), `${path}.toolCalls`);
      optionalReasoning(readField(m, 'reasoning', path), `${path}.reasoning`);
      if (!(typeof content === 'string' && content.length > 0) && !(calls && calls.length > 0)) fail(path, '(assistant) needs content or toolCalls');
      break;
    }
    case 'tool':
      nonEmptyString(readField(m, 'toolCallId', path), `${path}.toolCallId`);
      messageContent(content, `${path}.content`);
      break;
  }
  return m as unknown as Message;
};

/** Tools: names unique and usable by every provider; parameters a JSON schema that serializes. */
const toolShape = fields({
  name: { required: true, check: string({ pattern: TOOL_NAME, patternText: '[a-zA-Z0-9_-]{1,64}' }) },
  description: string(),
  parameters: { required: true, check: (p, pAt) => jsonValue(plainObject(p, pAt), pAt) },
});

const tools: Check = (value, path) => {
  const names = new Set<string>();
  return arrayOf((t, at) => {
    rejectOpenAITool(t, at);
    const tool = toolShape(t, at);
    if (names.has(tool.name as string)) fail(`${at}.name`, `'${tool.name as string}' is defined twice`);
    names.add(tool.name as string);
    return tool;
  })(value, path);
};

const namedToolChoice = fields({ name: { required: true, check: string({ nonEmpty: true }) } });

const toolChoice: Check = (value, path) => {
  if (value !== null && typeof value === 'object') return namedToolChoice(value, path);
  if (typeof value !== 'string' || !(TOOL_CHOICES as readonly string[]).includes(value)) {
    fail(path, `must be 'auto', 'none', 'required' or { name }, got ${describe(value)}`);
  }
  return value;
};

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get;

/**
 * A real AbortSignal. Its own `aborted` getter is the brand check: an object that only looks like
 * one (`Object.create(AbortSignal.prototype)`, a duck-typed stand-in) throws there — and would
 * throw later, inside the walk, when Bulwark listens to it.
 */
const abortSignal: Check<AbortSignal> = (value, path) => {
  try {
    if (abortedGetter && value !== null && typeof value === 'object') {
      abortedGetter.call(value);
      return value as AbortSignal;
    }
  } catch {
    // not a real signal
  }
  return fail(path, `must be an AbortSignal (from an AbortController or AbortSignal.timeout()), got ${describe(value)}`);
};

/**
 * Every field of a request and how it is checked: one line per field. A new request field is a
 * new line here (and its type in request/types.ts).
 */
export const REQUEST_FIELDS: Record<keyof ChatRequest, FieldSpec> = {
  messages: { required: true, check: arrayOf(message, { nonEmpty: true }) },
  tools: { check: tools },
  toolChoice: { check: toolChoice },
  maxTokens: { check: finite({ integer: true, above: 0 }) },
  temperature: { check: finite({ min: 0, max: 2 }) },
  topP: { check: finite({ above: 0, max: 1 }) },
  stop: { check: arrayOf(string({ nonEmpty: true })) },
  signal: { check: abortSignal },
  partition: { check: string() },
  critical: { check: boolean },
  maxCostUsd: { check: finite({ min: 0, unit: 'USD' }) },
  totalTimeoutMs: { check: finite({ above: 0, max: MAX_TIMER_MS, maxReason: 'the longest timer Node.js can set' }) },
  parallelToolCalls: { check: boolean },
  providerOptions: { check: providerOptions },
  responseFormat: { check: responseFormatCheck },
  reasoning: { check: reasoningCheck },
};

const requestShape = fields(REQUEST_FIELDS, { keyPath: (_, key) => key });
const REQUEST_KEYS = Object.keys(REQUEST_FIELDS);

/** Rules across fields, on a request whose fields all passed. */
function crossFieldRules(request: ChatRequest): void {
  /** Tool call ids of the assistant messages so far (created at the first one). */
  let toolCallIds: Set<string> | undefined;
  let users = 0;
  const { messages } = request;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'user') users += 1;
    else if (m.role === 'assistant' && m.toolCalls) for (const call of m.toolCalls) (toolCallIds ??= new Set()).add(call.id);
    else if (m.role === 'tool' && !toolCallIds?.has(m.toolCallId)) fail(`messages[${i}].toolCallId`, 'answers no earlier assistant tool call');
  }
  if (users === 0) fail('messages', 'need at least one user message');
  reasoningCrossFieldRules(request);
  cacheControlCrossFieldRules(request);
  const choice = request.toolChoice;
  if (choice !== undefined && typeof choice === 'object' && !request.tools?.some((t) => t.name === choice.name)) {
    fail('toolChoice', 'names a tool that is not in tools');
  }
}

/**
 * Rejects a request that no provider could accept, before any upstream call: the error is
 * 'bad_request', names the field, and nothing is retried or sent anywhere else. Whatever the
 * request holds must serialize as JSON exactly as given (a cyclic or BigInt tool schema fails
 * here, not inside an attempt).
 */
export function validateRequest(request: ChatRequest): void {
  try {
    if (request === null || typeof request !== 'object' || Array.isArray(request)) fail('request', `must be an object, got ${describe(request)}`);
    rejectUnknownRequestFields(request, REQUEST_KEYS);
    requestShape(request, '');
    crossFieldRules(request);
  } catch (error) {
    if (error instanceof Invalid) throw new BulwarkError('bad_request', `Invalid request: ${error.message}`);
    // A proxy whose traps throw while the request is merely read: still the request's fault.
    throw new BulwarkError('bad_request', `Invalid request: it could not be read (${error instanceof Error ? error.name : typeof error})`);
  }
}

/**
 * Rough prompt size (≈ 4 characters a token, plus per-message overhead). Only used to pick a
 * target whose contextWindow fits after a context-length failure — never to refuse a request.
 */
export function estimateTokens(request: ChatRequest): number {
  let chars = 0;
  for (const m of request.messages) {
    chars += 16;
    chars += estimatedContentChars(m.content);
    if (m.role === 'assistant' && m.toolCalls) for (const c of m.toolCalls) chars += c.name.length + c.arguments.length;
  }
  if (request.tools) chars += JSON.stringify(request.tools).length;
  return Math.ceil(chars / 4);
}
