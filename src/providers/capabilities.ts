import { boolean, fail, fields, type Check } from '../validation/walk.js';
import type { InputNeeds } from '../request/contentParts.js';

/** What a target declares it can take (target option `capabilities`). Unset fields take the model family's default. */
export interface TargetCapabilities {
  /** Image parts. */
  images?: boolean;
  /** File parts: true = the provider's usual types (see README), a list = exactly these media types, false = none. */
  files?: boolean | readonly string[];
}

const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

/** The `capabilities` option: `{ images?: boolean, files?: boolean | media types }`, nothing else. */
export const targetCapabilities: Check<TargetCapabilities> = (value, path) =>
  fields(
    {
      images: boolean,
      files: (files, at) => {
        if (typeof files === 'boolean') return files;
        if (Array.isArray(files) && files.every((t) => typeof t === 'string' && MEDIA_TYPE.test(t))) return files;
        return fail(at, "must be a boolean or a list of media types (['application/pdf', …])");
      },
    },
    { unknown: 'reject' },
  )(value, path) as TargetCapabilities;

/** Capabilities after defaults, as the chain checks them. */
export interface ResolvedCapabilities {
  readonly images: boolean;
  /** Media types of file parts the target takes (lower case). */
  readonly fileTypes: readonly string[];
  /** Of those, the types it takes as a remote URL (else only as bytes / data URL). */
  readonly fileUrlTypes: readonly string[];
}

export interface FamilyDefaults {
  /** Models whose family takes images and files. */
  multimodal: RegExp;
  /** The file types `files: true` and a multimodal family mean. */
  fileTypes: readonly string[];
  /** Which of those the wire format can carry as a URL. */
  fileUrlTypes: readonly string[];
}

/**
 * OpenAI: the vision families (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, o4-mini, gpt-4-turbo) take images and
 * PDFs; the mini reasoning models before o4 (o1-mini, o3-mini), gpt-3.5 and gpt-4 do not. Chat Completions
 * takes a file only inline (file_data), never by URL.
 */
export const OPENAI_DEFAULTS: FamilyDefaults = {
  multimodal: /^(?:[\w.-]+\/)?(?:chatgpt-4o|gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-4-turbo|o1(?!-mini)|o3(?!-mini)|o4)/i,
  fileTypes: ['application/pdf'],
  fileUrlTypes: [],
};

/**
 * Anthropic: every Claude 3.5 and later model takes images and documents (PDF, plain text); PDFs also by URL.
 * Claude 3 (opus/sonnet/haiku of 2024) take images only; claude-2 and claude-instant neither.
 */
export const ANTHROPIC_DEFAULTS: FamilyDefaults = {
  multimodal: /^(?:[\w.-]+\/)?claude-(?!2|instant)/i,
  fileTypes: ['application/pdf', 'text/plain'],
  fileUrlTypes: ['application/pdf'],
};

/**
 * A target with no known family (an AI SDK model) that declares capabilities: what it leaves out
 * it takes (images unless `images: false`; files: PDFs and text by default, also by URL).
 */
export const DECLARED_ONLY: FamilyDefaults = {
  multimodal: /(?:)/,
  fileTypes: ['application/pdf', 'text/plain'],
  fileUrlTypes: ['application/pdf', 'text/plain'],
};

const CLAUDE_3_IMAGES_ONLY = /^(?:[\w.-]+\/)?claude-3-(?:opus|sonnet|haiku)-\d{8}/i;

export function resolveCapabilities(model: string, family: FamilyDefaults, declared: TargetCapabilities | undefined): ResolvedCapabilities {
  const multimodal = family.multimodal.test(model);
  const filesByDefault = multimodal && !(family === ANTHROPIC_DEFAULTS && CLAUDE_3_IMAGES_ONLY.test(model));
  const images = declared?.images ?? multimodal;
  const files = declared?.files ?? filesByDefault;
  const fileTypes = files === true ? [...family.fileTypes] : files === false ? [] : files.map((t) => t.toLowerCase());
  return { images, fileTypes, fileUrlTypes: fileTypes.filter((t) => family.fileUrlTypes.includes(t)) };
}

/** Why a target cannot take the request's parts (a short phrase), or undefined when it can. */
export function unsupportedInput(needs: InputNeeds, caps: ResolvedCapabilities): string | undefined {
  if (needs.images && !caps.images) return 'takes no images';
  for (const [type, { url }] of needs.files) {
    if (!caps.fileTypes.includes(type)) return `takes no ${type} files`;
    if (url && !caps.fileUrlTypes.includes(type)) return `takes ${type} files only inline, not by URL`;
  }
  return undefined;
}
