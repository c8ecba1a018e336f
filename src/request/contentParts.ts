import type { BinarySource, ContentPart, FilePart, ImagePart, Message } from './types.js';

/**
 * The one reading of an image's or file's source that validation, the adapters, the cache key
 * and content capture share: a remote URL, or bytes (given as bytes or as a data URL).
 */
export type ResolvedSource =
  | { kind: 'url'; url: string }
  | { kind: 'bytes'; bytes: Uint8Array; /** From the data URL or sniffed from the bytes. */ mediaType: string | undefined };

/** `data:[<media type>][;params][;base64],<data>` */
const DATA_URL = /^data:([^,]*?),(.*)$/s;

export interface DataUrl {
  mediaType: string | undefined;
  bytes: Uint8Array;
}

/** Parses a data URL (base64 or percent-encoded); undefined when the text is not one. */
export function parseDataUrl(text: string): DataUrl | undefined {
  const match = DATA_URL.exec(text);
  if (!match) return undefined;
  const meta = match[1]!.split(';').map((s) => s.trim());
  const base64 = meta.includes('base64');
  const mediaType = meta[0] !== undefined && meta[0] !== '' && meta[0] !== 'base64' ? meta[0].toLowerCase() : undefined;
  const payload = match[2]!;
  if (base64) {
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(payload)) return undefined;
    return { mediaType, bytes: Buffer.from(payload, 'base64') };
  }
  try {
    return { mediaType, bytes: Buffer.from(decodeURIComponent(payload), 'utf8') };
  } catch {
    return undefined;
  }
}

function isRemoteUrl(text: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(text);
}

/** Undefined when the value is neither an http(s) URL, a data URL nor bytes. */
export function resolveSource(source: BinarySource | unknown): ResolvedSource | undefined {
  if (source instanceof Uint8Array) return { kind: 'bytes', bytes: source, mediaType: sniffImageType(source) };
  const text = source instanceof URL ? source.href : typeof source === 'string' ? source : undefined;
  if (text === undefined) return undefined;
  if (text.startsWith('data:')) {
    const parsed = parseDataUrl(text);
    return parsed && { kind: 'bytes', bytes: parsed.bytes, mediaType: parsed.mediaType ?? sniffImageType(parsed.bytes) };
  }
  return isRemoteUrl(text) ? { kind: 'url', url: text } : undefined;
}

/** The image formats both providers take, recognised by their magic bytes. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const at = (i: number, ...values: number[]) => values.every((v, j) => bytes[i + j] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function toDataUrl(mediaType: string, bytes: Uint8Array): string {
  return `data:${mediaType};base64,${toBase64(bytes)}`;
}

/** The source of a part: `image` of an image, `data` of a file. */
export function partSource(part: ImagePart | FilePart): BinarySource {
  return part.type === 'image' ? part.image : part.data;
}

/**
 * The media type a part is sent with: the declared one, else the data URL's, else sniffed from
 * image bytes. Undefined for an image given by remote URL without `mediaType` (the provider
 * fetches it and finds out).
 */
export function partMediaType(part: ImagePart | FilePart, source: ResolvedSource): string | undefined {
  if (part.mediaType !== undefined) return part.mediaType.toLowerCase();
  return source.kind === 'bytes' ? source.mediaType : undefined;
}

/** A message's content as parts (a string is one text part). */
export function contentParts(content: string | ContentPart[] | null | undefined): ContentPart[] {
  if (content === null || content === undefined) return [];
  return typeof content === 'string' ? (content === '' ? [] : [{ type: 'text', text: content }]) : content;
}

/** The text of a message's content: its text parts joined (images and files left out). */
export function contentText(content: string | ContentPart[] | null | undefined): string {
  if (typeof content === 'string') return content;
  return contentParts(content)
    .filter((p): p is Extract<ContentPart, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('');
}

/** What input kinds a request carries, for matching against a target's capabilities. */
export interface InputNeeds {
  readonly images: boolean;
  /** Media types of file parts, with whether any of that type is a remote URL. */
  readonly files: ReadonlyMap<string, { url: boolean }>;
}

/** A request of text only (most of them): one shared answer, no Map per request. */
const TEXT_ONLY: InputNeeds = Object.freeze({ images: false, files: new Map<string, { url: boolean }>() });

export function inputNeeds(messages: readonly Message[]): InputNeeds {
  let images = false;
  let files: Map<string, { url: boolean }> | undefined;
  for (const m of messages) {
    if ((m.role !== 'user' && m.role !== 'tool') || typeof m.content === 'string') continue;
    for (const part of m.content) {
      if (part.type === 'image') images = true;
      else if (part.type === 'file') {
        const type = part.mediaType.toLowerCase();
        // Only whether it is a remote URL: no need to decode a (possibly large) data URL here.
        const text = part.data instanceof URL ? part.data.href : typeof part.data === 'string' ? part.data : '';
        const url = isRemoteUrl(text);
        files ??= new Map();
        const seen = files.get(type);
        files.set(type, { url: (seen?.url ?? false) || url });
      }
    }
  }
  return images || files ? { images, files: files ?? TEXT_ONLY.files } : TEXT_ONLY;
}

/** Rough tokens an image or file costs a prompt (≈ a 1000×1000 image on either provider). */
const TOKENS_PER_ATTACHMENT = 1_600;

/** Characters that stand for a message's content in the ≈ 4-characters-a-token estimate. */
export function estimatedContentChars(content: string | ContentPart[] | null | undefined): number {
  if (typeof content === 'string') return content.length;
  let chars = 0;
  for (const part of contentParts(content)) chars += part.type === 'text' ? part.text.length : TOKENS_PER_ATTACHMENT * 4;
  return chars;
}
