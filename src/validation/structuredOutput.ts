import { Ajv, type ValidateFunction } from 'ajv';
import { ProviderError } from '../errors/providerError.js';
import { boolean, fail, fields, finite, jsonValue, oneOf, plainObject, string, type Check } from './walk.js';
import type { ChatRequest, ProviderResponse, ResponseFormat } from '../request/types.js';

/** Same-target retries after an invalid answer when the request does not say. */
export const DEFAULT_INVALID_OUTPUT_RETRIES = 1;
const MAX_INVALID_OUTPUT_RETRIES = 5;
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * One validator for every schema. `strict: false`: providers' schema dialects carry keywords ajv
 * does not know (OpenAI's `strict`, descriptions, examples); formats are not checked (`format`
 * needs a plugin and providers do not enforce it either). `logger: false`: nothing reaches the
 * console.
 */
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false, logger: false });
/** Compiled validators by schema object: a caller reusing its schema compiles it once. */
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * `responseFormat`, checked with the request walk: a JSON schema object that ajv can compile (a
 * schema no validator can use is the request's fault, found before any upstream call).
 */
export const responseFormatCheck: Check<ResponseFormat> = (value, path) => {
  const format = fields(
    {
      type: { required: true, check: oneOf(['json'] as const) },
      schema: { required: true, check: (s, at) => jsonValue(plainObject(s, at), at) },
      name: string({ pattern: SCHEMA_NAME, patternText: '[a-zA-Z0-9_-]{1,64}' }),
      strict: boolean,
      retries: finite({ integer: true, min: 0, max: MAX_INVALID_OUTPUT_RETRIES }),
    },
    { unknown: 'reject' },
  )(value, path) as unknown as ResponseFormat;
  try {
    validatorFor(format.schema);
  } catch (error) {
    // ajv names the offending keyword by its schema path; the schema is the caller's code, not prompt content.
    fail(`${path}.schema`, `is not a valid JSON Schema (${error instanceof Error ? error.message.slice(0, 200) : 'ajv refused it'})`);
  }
  return format;
};

/** The parsed value of a JSON answer valid against `format.schema`, or why it is not one. */
export function parseStructured(format: ResponseFormat, text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: text.trim() === '' ? 'the answer is empty, not JSON' : 'the answer is not valid JSON' };
  }
  const validate = validatorFor(format.schema);
  if (validate(value)) return { ok: true, value };
  const first = validate.errors?.[0];
  // The instance path and the keyword say what is wrong without quoting the answer's content.
  return { ok: false, why: `the answer does not match the schema (${first ? `${first.instancePath || '/'} ${first.keyword}` : 'invalid'})` };
}

/**
 * Checks an answer against the request's `responseFormat`: the response with `object` set, or
 * an `invalid_output` ProviderError carrying the call's usage (its tokens were spent). An answer
 * that is tool calls is not checked: the model asked for a tool before answering.
 */
export function checkStructuredOutput(request: ChatRequest, response: ProviderResponse, provider: string, model: string): ProviderResponse {
  const format = request.responseFormat;
  if (!format || response.toolCalls.length > 0) return response;
  const parsed = parseStructured(format, response.text);
  if (parsed.ok) return { ...response, object: parsed.value };
  throw new ProviderError({
    errorType: 'invalid_output',
    provider,
    model,
    message: `Invalid structured output from ${provider}/${model}: ${parsed.why}${response.finishReason === 'length' ? ' (cut at maxTokens)' : ''}`,
    providerCode: 'invalid_output',
    ...(response.usage && { usage: response.usage }),
  });
}

/** Same-target retries the request allows after an invalid answer. */
export function invalidOutputRetries(request: ChatRequest): number {
  return request.responseFormat?.retries ?? DEFAULT_INVALID_OUTPUT_RETRIES;
}
