import { BulwarkError } from '../errors/bulwarkError.js';
import type { ChatRequest, Message } from './types.js';
import { estimatedContentChars } from './contentParts.js';

function bad(message: string): never {
  throw new BulwarkError('bad_request', `Invalid request: ${message}`);
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const TOOL_CHOICES = new Set(['auto', 'none', 'required']);

/** Longest timer Node.js can set; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * What a bad value was. Only a short word is quoted ('developer' for a role): anything else in
 * a request may be prompt content, which errors never carry.
 */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return /^[A-Za-z_-]{1,32}$/.test(value) ? `'${value}'` : `a string of ${value.length} characters`;
  return `a ${typeof value}`;
}

function isAbortSignal(value: unknown): boolean {
  const s = value as AbortSignal | null;
  return typeof s === 'object' && s !== null && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}

function validateMessage(m: unknown, i: number, toolCallIds: Set<string>): void {
  const at = `messages[${i}]`;
  if (m === null || typeof m !== 'object') bad(`${at} must be an object`);
  const msg = m as Message & Record<string, unknown>;
  if (!ROLES.has(msg.role)) bad(`${at}.role must be one of system, user, assistant, tool; got ${kindOf(msg.role)}`);
  switch (msg.role) {
    case 'system':
    case 'user':
      if (typeof msg.content !== 'string') bad(`${at}.content must be a string`);
      break;
    case 'assistant': {
      const hasText = typeof msg.content === 'string' && msg.content.length > 0;
      if (msg.content !== undefined && msg.content !== null && typeof msg.content !== 'string') bad(`${at}.content must be a string or null`);
      if (msg.toolCalls !== undefined) {
        if (!Array.isArray(msg.toolCalls)) bad(`${at}.toolCalls must be an array`);
        msg.toolCalls.forEach((call, j) => {
          if (!call || typeof call.id !== 'string' || call.id === '') bad(`${at}.toolCalls[${j}].id must be a non-empty string`);
          if (typeof call.name !== 'string' || call.name === '') bad(`${at}.toolCalls[${j}].name must be a non-empty string`);
          if (typeof call.arguments !== 'string') bad(`${at}.toolCalls[${j}].arguments must be a JSON string`);
          toolCallIds.add(call.id);
        });
      }
      if (!hasText && !(msg.toolCalls && msg.toolCalls.length > 0)) bad(`${at} (assistant) needs content or toolCalls`);
      break;
    }
    case 'tool':
      if (typeof msg.toolCallId !== 'string' || msg.toolCallId === '') bad(`${at}.toolCallId must be a non-empty string`);
      if (!toolCallIds.has(msg.toolCallId)) bad(`${at}.toolCallId answers no earlier assistant tool call`);
      if (typeof msg.content !== 'string') bad(`${at}.content must be a string`);
      break;
  }
}

/**
 * Rejects a request that no provider could accept, before any upstream call: the error is
 * 'bad_request' and nothing is retried or sent anywhere else.
 */
export function validateRequest(request: ChatRequest): void {
  if (request === null || typeof request !== 'object') bad('must be an object');
  if (!Array.isArray(request.messages) || request.messages.length === 0) bad('messages must be a non-empty array');
  const toolCallIds = new Set<string>();
  request.messages.forEach((m, i) => validateMessage(m, i, toolCallIds));
  if (!request.messages.some((m) => m.role === 'user')) bad('messages need at least one user message');
  if (request.tools !== undefined) {
    if (!Array.isArray(request.tools)) bad('tools must be an array');
    const names = new Set<string>();
    request.tools.forEach((t, i) => {
      if (!t || typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) bad(`tools[${i}].name must match [a-zA-Z0-9_-]{1,64}`);
      if (names.has(t.name)) bad(`tools[${i}].name '${t.name}' is defined twice`);
      names.add(t.name);
      if (!t.parameters || typeof t.parameters !== 'object' || Array.isArray(t.parameters)) bad(`tools[${i}].parameters must be a JSON schema object`);
      if (t.description !== undefined && typeof t.description !== 'string') bad(`tools[${i}].description must be a string`);
    });
  }
  const choice: unknown = request.toolChoice;
  if (choice !== undefined) {
    if (choice !== null && typeof choice === 'object') {
      if (!request.tools?.some((t) => t.name === (choice as { name?: unknown }).name)) bad('toolChoice names a tool that is not in tools');
    } else if (typeof choice !== 'string' || !TOOL_CHOICES.has(choice)) {
      bad(`toolChoice must be 'auto', 'none', 'required' or { name }, got ${kindOf(choice)}`);
    }
  }
  const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (request.maxTokens !== undefined && !positiveInt(request.maxTokens)) bad('maxTokens must be a positive integer');
  if (request.temperature !== undefined && !(typeof request.temperature === 'number' && request.temperature >= 0 && request.temperature <= 2)) {
    bad('temperature must be a number between 0 and 2');
  }
  if (request.topP !== undefined && !(typeof request.topP === 'number' && request.topP > 0 && request.topP <= 1)) bad('topP must be in (0, 1]');
  if (request.stop !== undefined && !(Array.isArray(request.stop) && request.stop.every((s) => typeof s === 'string' && s !== ''))) {
    bad('stop must be an array of non-empty strings');
  }
  if (request.maxCostUsd !== undefined && !(typeof request.maxCostUsd === 'number' && request.maxCostUsd >= 0)) bad('maxCostUsd must be a number >= 0');
  if (request.totalTimeoutMs !== undefined && !(typeof request.totalTimeoutMs === 'number' && request.totalTimeoutMs > 0 && request.totalTimeoutMs <= MAX_TIMER_MS)) {
    bad(`totalTimeoutMs must be a number > 0 and at most ${MAX_TIMER_MS} (the longest timer Node.js can set)`);
  }
  if (request.partition !== undefined && typeof request.partition !== 'string') bad('partition must be a string');
  if (request.critical !== undefined && typeof request.critical !== 'boolean') bad('critical must be a boolean');
  if (request.signal !== undefined && !isAbortSignal(request.signal)) bad('signal must be an AbortSignal');
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
