import type { AssistantPart, ChatMessage, ImageSource, ToolCallPart, ToolResultPart, UserPart } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';

/** The parts of a Gemini Content (https://ai.google.dev/api/caching#Part) that Sluice writes. */
export type GeminiPart =
  | { text: string; thought?: true; thoughtSignature?: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: JsonObject }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: JsonObject } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

/**
 * The conversation as Gemini `contents`: user turns and `model` turns, consecutive turns of one
 * role merged (tool results and the user's next words become one user turn, which is where
 * Gemini wants function responses: right after the model turn that called them). Turns left
 * without parts are omitted: Gemini rejects a Content with no parts.
 */
export function encodeContents(messages: ChatMessage[]): GeminiContent[] {
  const toolNames = new Map<string, string>();
  const contents: GeminiContent[] = [];
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    const role = message.role === 'user' ? 'user' : 'model';
    const parts = message.role === 'user' ? userParts(message.content, param, toolNames) : modelParts(message.content, param, toolNames);
    if (parts.length === 0) return;
    const previous = contents[contents.length - 1];
    if (previous?.role === role) previous.parts.push(...parts);
    else contents.push({ role, parts });
  });
  return contents;
}

function userParts(content: UserPart[], param: string, toolNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  content.forEach((part, j) => {
    const at = `${param}.content[${j}]`;
    if (part.type === 'text') {
      if (part.text !== '') parts.push({ text: part.text });
    } else if (part.type === 'image') {
      parts.push(imagePart(part.source, at));
    } else {
      parts.push(...toolResultParts(part, at, toolNames));
    }
  });
  return parts;
}

/**
 * A tool result as a functionResponse. Gemini matches responses to calls by function NAME and
 * order; the optional call `id` is a Gemini Developer API field that Vertex does not take, and the
 * ids Sluice holds are often its own, so none is sent. The name comes from the part, or from the
 * earlier tool call with the same id. `response` follows the documented
 * convention: `{"output": ...}`, or `{"error": ...}` for a failed call
 * (https://ai.google.dev/api/caching#FunctionResponse). Images in a result follow as their own
 * parts of the same turn: `functionResponse.parts` exists only for Gemini 3 models.
 */
function toolResultParts(part: ToolResultPart, param: string, toolNames: Map<string, string>): GeminiPart[] {
  const name = part.name ?? toolNames.get(part.toolCallId);
  if (name === undefined || name === '') {
    throw new GatewayError(
      'invalid_request',
      `Gemini needs the function name of every tool result, and tool result '${part.toolCallId}' answers no earlier tool call.`,
      { param: `${param}.toolCallId` },
    );
  }
  const text = part.content.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n');
  const images = part.content.flatMap((item, k) => (item.type === 'image' ? [imagePart(item.source, `${param}.content[${k}]`)] : []));
  return [{ functionResponse: { name, response: part.isError === true ? { error: text } : { output: text } } }, ...images];
}

/**
 * A model turn. Reasoning travels only with a Gemini signature (signatures are never forged, and
 * a summary without one carries nothing Gemini can resume from); other families' reasoning and
 * redacted reasoning are left out. A signed thought goes back as the thought part it came from
 * (`thought: true`, https://ai.google.dev/gemini-api/docs/thought-signatures). A signature with no
 * text is one Gemini put on a non-thought part: the decoder emits it right after that part's text,
 * so it goes back on the text part just before it, or as the empty text part it arrived on.
 */
function modelParts(content: AssistantPart[], param: string, toolNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  let previousText: { text: string; thoughtSignature?: string } | undefined;
  content.forEach((part, j) => {
    const textBefore = previousText;
    previousText = undefined;
    switch (part.type) {
      case 'text':
        if (part.text !== '') parts.push((previousText = { text: part.text }));
        return;
      case 'tool-call':
        toolNames.set(part.id, part.name);
        parts.push(functionCallPart(part, `${param}.content[${j}]`));
        return;
      case 'reasoning': {
        if (part.signature?.family !== 'gemini') return;
        const signature = part.signature.value;
        if (part.text !== '') parts.push({ text: part.text, thought: true, thoughtSignature: signature });
        else if (textBefore !== undefined) textBefore.thoughtSignature = signature;
        else parts.push({ text: '', thoughtSignature: signature });
        return;
      }
      case 'redacted-reasoning':
        return;
    }
  });
  return parts;
}

function functionCallPart(part: ToolCallPart, param: string): GeminiPart {
  const call: GeminiPart = { functionCall: { name: part.name, args: parseArguments(part.arguments, `${param}.arguments`) } };
  if (part.signature?.family === 'gemini') call.thoughtSignature = part.signature.value;
  return call;
}

/** Gemini takes arguments as a JSON object (a protobuf Struct), not as text. */
function parseArguments(text: string, param: string): JsonObject {
  if (text.trim() === '') return {}; // some clients send "" for a call without arguments
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError('invalid_request', `Tool call arguments must be valid JSON for Gemini: ${text.slice(0, 100)}`, { param });
  }
  if (!isObject(parsed)) throw new GatewayError('invalid_request', 'Tool call arguments must be a JSON object for Gemini.', { param });
  return parsed;
}

/** Image types Gemini reads (https://ai.google.dev/gemini-api/docs/image-understanding), by extension. */
const imageTypes: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

/**
 * An image as inlineData, or as fileData for a URL Gemini fetches itself (public or signed
 * https URLs, gs:// URIs: https://ai.google.dev/gemini-api/docs/file-input-methods). fileData
 * needs a mime type, which only the URL's extension can tell without fetching it; a data: URL is
 * decoded to inline data.
 */
export function imagePart(source: ImageSource, param: string): GeminiPart {
  if (source.kind === 'base64') return { inlineData: { mimeType: source.mediaType, data: source.data } };
  if (source.url.startsWith('data:')) return { inlineData: decodeDataUrl(source.url, param) };
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new GatewayError('invalid_request', `Invalid image URL: ${source.url.slice(0, 100)}`, { param });
  }
  const extension = /\.([a-z0-9]+)$/i.exec(url.pathname)?.[1]?.toLowerCase();
  const mimeType = extension === undefined ? undefined : imageTypes[extension];
  if (!['https:', 'http:', 'gs:'].includes(url.protocol) || mimeType === undefined) {
    throw new GatewayError(
      'invalid_request',
      'Gemini needs an image as inline data (base64 or a data: URL) or as a file URI with a known mime type; ' +
        `the type of ${source.url.slice(0, 100)} cannot be told from its URL (supported: .png, .jpg, .jpeg, .webp, .heic, .heif).`,
      { param },
    );
  }
  return { fileData: { mimeType, fileUri: source.url } };
}

/** `data:<mime>[;base64],<data>` (RFC 2397); percent-encoded data is decoded byte by byte. */
function decodeDataUrl(dataUrl: string, param: string): { mimeType: string; data: string } {
  const comma = dataUrl.indexOf(',');
  const meta = comma === -1 ? [] : dataUrl.slice(5, comma).split(';');
  const mimeType = meta[0]?.trim() ?? '';
  if (comma === -1 || mimeType === '') {
    throw new GatewayError('invalid_request', 'An image data: URL needs a media type (data:image/png;base64,...).', { param });
  }
  const payload = dataUrl.slice(comma + 1);
  if (meta.slice(1).some((flag) => flag.trim().toLowerCase() === 'base64')) return { mimeType, data: payload.replace(/\s+/g, '') };
  const bytes = Buffer.from(payload, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const hex = bytes[i] === 0x25 ? bytes.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(bytes[i] as number);
    }
  }
  return { mimeType, data: Buffer.from(out).toString('base64') };
}
