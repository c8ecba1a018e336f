import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Message,
  LanguageModelV4ToolResultOutput,
  SharedV4ProviderOptions,
  SharedV4Warning,
} from '@ai-sdk/provider';
import { BulwarkError } from '../errors/bulwarkError.js';
import type { AssistantMessage, ChatRequest, ContentPart, Message, ReasoningBlock, ReasoningEffort, ToolCall, ToolChoice, ToolDefinition } from '../request/types.js';

type FileData = Extract<Extract<LanguageModelV4Message, { role: 'user' }>['content'][number], { type: 'file' }>['data'];

/**
 * An AI SDK file part as Bulwark's image or file part: bytes stay bytes, base64 text becomes a data URL,
 * inline text becomes bytes, a URL stays a URL (with `supportedUrls` empty the AI SDK downloads URLs
 * before calling the model, so they only arrive from callers that skip that step).
 */
function toContentPart(part: { data: FileData; mediaType: string; filename?: string }, path: string): ContentPart {
  const { data, mediaType } = part;
  const image = mediaType === 'image' || mediaType.startsWith('image/');
  const full = /^[\w.+-]+\/[\w.+-]+$/.test(mediaType) && !mediaType.endsWith('/*');
  let source: Uint8Array | string | URL;
  switch (data.type) {
    case 'data':
      if (typeof data.data === 'string') {
        if (!full) throw unsupported(path, `base64 data without a full media type ('${mediaType}')`);
        source = `data:${mediaType};base64,${data.data}`;
      } else source = data.data;
      break;
    case 'url':
      source = data.url;
      break;
    case 'text':
      source = new TextEncoder().encode(data.text);
      break;
    default:
      throw unsupported(path, 'a file given as a provider reference');
  }
  if (image) return { type: 'image', image: source, ...(full && { mediaType }) };
  if (!full) throw unsupported(path, `a file without a full media type ('${mediaType}')`);
  return { type: 'file', data: source, mediaType, ...(part.filename !== undefined && { filename: part.filename }) };
}

/** Text-only content as the plain string every target takes; parts otherwise. */
function contentOf(parts: ContentPart[]): string | ContentPart[] {
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

/**
 * The AI SDK's reasoning levels as Bulwark's efforts; above `high` is sent as `high` (a compatibility
 * warning says so). `none` cannot be said: without `reasoning` a target keeps its own default.
 */
const EFFORTS: Record<string, ReasoningEffort> = { minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' };

/**
 * Where bulwarkModel keeps a turn's reasoning blocks on the reasoning part it returns
 * (`providerMetadata.bulwark.reasoningBlocks`); the AI SDK hands them back as that part's
 * `providerOptions` in the next step of a tool loop, and they go back on the assistant message.
 */
export const REASONING_KEY = 'bulwark';

/**
 * An AI SDK call (LanguageModelV4CallOptions) as a Bulwark ChatRequest.
 *
 * Nothing the caller sends is dropped silently: what Bulwark's request cannot carry is either a
 * `bad_request` BulwarkError naming it (prompt parts, tools, provider options, headers — the
 * answer would be wrong without them), or, for the sampling settings the AI SDK spec itself
 * reports as unsupported through `warnings` (topK, penalties, seed, …), such a warning.
 */
export interface ConvertedCall {
  request: ChatRequest;
  warnings: SharedV4Warning[];
}

/** What Bulwark's `responseFormat.name` (OpenAI's `json_schema.name`) accepts. */
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Header the AI SDK adds to every call (`ai/7.x`); it identifies the SDK, it asks nothing of the model. */
const USER_AGENT = 'user-agent';

function unsupported(path: string, what: string): BulwarkError {
  return new BulwarkError('bad_request', `Invalid request: ${path} (${what}) is not supported by bulwarkModel`);
}

function rejectProviderOptions(options: SharedV4ProviderOptions | undefined, path: string): void {
  if (options !== undefined && Object.keys(options).length > 0) {
    throw unsupported(`${path}.providerOptions`, `provider options for ${Object.keys(options).join(', ')}`);
  }
}

export function callToRequest(options: LanguageModelV4CallOptions): ConvertedCall {
  const warnings: SharedV4Warning[] = [];
  const request: ChatRequest = { messages: options.prompt.flatMap((message, i) => toMessages(message, `prompt[${i}]`)) };

  if (options.maxOutputTokens !== undefined) request.maxTokens = options.maxOutputTokens;
  if (options.temperature !== undefined) request.temperature = options.temperature;
  if (options.topP !== undefined) request.topP = options.topP;
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) request.stop = [...options.stopSequences];
  if (options.abortSignal !== undefined) request.signal = options.abortSignal;

  // Sampling settings the spec lets a model report as unsupported (as the providers' own models do).
  for (const setting of ['topK', 'presencePenalty', 'frequencyPenalty', 'seed'] as const) {
    if (options[setting] !== undefined) {
      warnings.push({ type: 'unsupported', feature: setting, details: `bulwarkModel does not send ${setting} to the chain's targets` });
    }
  }
  if (options.includeRawChunks === true) {
    warnings.push({ type: 'unsupported', feature: 'includeRawChunks', details: 'a chain has no single raw provider stream' });
  }

  if (options.reasoning !== undefined && options.reasoning !== 'provider-default') {
    const effort = EFFORTS[options.reasoning];
    if (effort === undefined) throw unsupported('reasoning', `'${options.reasoning}'`);
    request.reasoning = { effort };
    if (effort !== options.reasoning) warnings.push({ type: 'compatibility', feature: 'reasoning', details: `'${options.reasoning}' is sent as '${effort}'` });
  }
  for (const name of Object.keys(options.headers ?? {})) {
    if (name.toLowerCase() !== USER_AGENT && options.headers?.[name] !== undefined) throw unsupported(`headers.${name}`, 'per-call HTTP header');
  }
  rejectProviderOptions(options.providerOptions, 'call');

  if (options.tools !== undefined && options.tools.length > 0) {
    request.tools = options.tools.map((tool, i): ToolDefinition => {
      const path = `tools[${i}]`;
      if (tool.type !== 'function') throw unsupported(path, `provider tool '${tool.id}'`);
      if (tool.strict === true) throw unsupported(`${path}.strict`, `strict mode for tool '${tool.name}'`);
      if (tool.inputExamples !== undefined && tool.inputExamples.length > 0) {
        throw unsupported(`${path}.inputExamples`, `input examples for tool '${tool.name}'`);
      }
      rejectProviderOptions(tool.providerOptions, path);
      return {
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        parameters: tool.inputSchema as Record<string, unknown>,
      };
    });
  }
  if (options.toolChoice !== undefined) request.toolChoice = toToolChoice(options.toolChoice);

  if (options.responseFormat?.type === 'json') {
    // Bulwark's own structured output: each target's native JSON-schema mode, the answer parsed and
    // validated by the chain, an invalid answer retried and then failed over (error type invalid_output).
    const { schema, name, description } = options.responseFormat;
    if (schema === undefined) throw unsupported('responseFormat.schema', 'JSON output without a schema');
    request.responseFormat = { type: 'json', schema: schema as Record<string, unknown> };
    if (name !== undefined) {
      if (SCHEMA_NAME.test(name)) request.responseFormat.name = name;
      else warnings.push({ type: 'unsupported', feature: 'responseFormat.name', details: 'the name is not [a-zA-Z0-9_-]{1,64}; the default name is sent' });
    }
    if (description !== undefined) warnings.push({ type: 'unsupported', feature: 'responseFormat.description', details: 'Bulwark sends the schema without a description' });
  }
  return { request, warnings };
}

function toToolChoice(choice: NonNullable<LanguageModelV4CallOptions['toolChoice']>): ToolChoice {
  return choice.type === 'tool' ? { name: choice.toolName } : choice.type;
}

function toMessages(message: LanguageModelV4Message, path: string): Message[] {
  rejectProviderOptions(message.providerOptions, path);
  switch (message.role) {
    case 'system':
      return [{ role: 'system', content: message.content }];
    case 'user': {
      const parts = message.content.map((part, j): ContentPart => {
        const partPath = `${path}.content[${j}]`;
        rejectProviderOptions(part.providerOptions, partPath);
        return part.type === 'text' ? { type: 'text', text: part.text } : toContentPart(part, partPath);
      });
      return [{ role: 'user', content: contentOf(parts) }];
    }
    case 'assistant': {
      const texts: string[] = [];
      const toolCalls: ToolCall[] = [];
      const reasoning: ReasoningBlock[] = [];
      message.content.forEach((part, j) => {
        const partPath = `${path}.content[${j}]`;
        if (part.type === 'reasoning') {
          // Only reasoning this model returned (its blocks ride along); the text itself is never sent back.
          const { [REASONING_KEY]: ours, ...others } = part.providerOptions ?? {};
          const blocks = (ours as { reasoningBlocks?: unknown } | undefined)?.reasoningBlocks;
          if (!Array.isArray(blocks)) throw unsupported(partPath, 'a reasoning part bulwarkModel did not return');
          rejectProviderOptions(others, partPath);
          reasoning.push(...(blocks as unknown as ReasoningBlock[]));
          return;
        }
        rejectProviderOptions(part.providerOptions, partPath);
        if (part.type === 'text') texts.push(part.text);
        else if (part.type === 'tool-call') {
          if (part.providerExecuted === true) throw unsupported(partPath, `provider-executed tool call '${part.toolName}'`);
          toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: JSON.stringify(part.input ?? {}) });
        } else throw unsupported(partPath, `an assistant '${part.type}' part`);
      });
      const out: AssistantMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
      if (toolCalls.length > 0) out.toolCalls = toolCalls;
      if (reasoning.length > 0) out.reasoning = reasoning;
      return [out];
    }
    case 'tool':
      // One Bulwark tool message per result: each answers one call id.
      return toolMessages(message.content, path);
  }
}

function toolMessages(parts: Extract<LanguageModelV4Message, { role: 'tool' }>['content'], path: string): Message[] {
  return parts.map((part, j) => {
    const partPath = `${path}.content[${j}]`;
    rejectProviderOptions(part.providerOptions, partPath);
    if (part.type !== 'tool-result') throw unsupported(partPath, `a '${part.type}' part`);
    return { role: 'tool', toolCallId: part.toolCallId, content: toolOutputText(part.output, `${partPath}.output`) };
  });
}

/** A tool's output as the text a tool message carries (what the providers' own AI SDK models send). */
function toolOutputText(output: LanguageModelV4ToolResultOutput, path: string): string | ContentPart[] {
  if (output.type !== 'content') rejectProviderOptions(output.providerOptions, path);
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'json':
    case 'error-json':
      return JSON.stringify(output.value);
    case 'execution-denied':
      return output.reason ?? 'Tool execution denied.';
    case 'content':
      return contentOf(
        output.value.map((item, k): ContentPart => {
          const itemPath = `${path}.value[${k}]`;
          rejectProviderOptions(item.providerOptions, itemPath);
          if (item.type === 'text') return { type: 'text', text: item.text };
          if (item.type === 'file') return toContentPart(item, itemPath);
          throw unsupported(itemPath, `a '${item.type}' part in a tool result`);
        }),
      );
  }
}
