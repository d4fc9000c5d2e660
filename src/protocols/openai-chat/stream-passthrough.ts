import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import type { Usage } from '../../core/usage.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import { encodeSseData } from '../../sse/sse-encoder.js';
import { GeneratedSample, type GeneratedText } from '../generated-sample.js';
import type { StreamTranslator } from '../stream-translator.js';
import { readUpstreamError } from './errors.js';
import { OpenAiStreamNormalizer } from './stream-normalizer.js';

const doneFrame = 'data: [DONE]\n\n';

/**
 * An OpenAI-compatible upstream relayed to an OpenAI client: chunks pass through, tapped and
 * fixed by OpenAiStreamNormalizer; the content-chunk template spares most chunks a JSON.parse.
 */
export class OpenAiStreamPassthrough implements StreamTranslator {
  sawContent = false;
  finished = false;
  private readonly normalizer: OpenAiStreamNormalizer;
  /** The text of the chunks that carried content. */
  private readonly generatedText = new GeneratedSample();

  constructor(clientWantsUsage: boolean, private readonly route: string) {
    this.normalizer = new OpenAiStreamNormalizer(clientWantsUsage);
  }

  push(event: SseEvent): string {
    if (this.finished) return '';
    if (event.data === '[DONE]') {
      this.finished = true;
      return '';
    }
    const matched = event.event === undefined ? this.normalizer.normalizeUnparsed(event.data) : undefined;
    if (matched !== undefined) {
      if (matched.content) {
        this.sawContent = true;
        this.generatedText.addLiteral(event.data, matched.literalStart, matched.literalEnd);
      }
      return dataFrame(matched.json);
    }
    const chunk = parseChunk(event, this.route);
    if (chunk === undefined) return ''; // not a chunk (e.g. an empty ping object): nothing for the client
    const normalized = this.normalizer.normalize(chunk, event.data);
    if (normalized.content) {
      this.sawContent = true;
      this.generatedText.add(textOfChunk(chunk));
    }
    return normalized.json === undefined ? '' : dataFrame(normalized.json);
  }

  get completeWithoutTerminator(): boolean {
    return this.normalizer.allChoicesFinished;
  }

  /** The separate usage chunk when owed, then [DONE]. */
  closingFrames(): string {
    const usageChunk = this.normalizer.trailingUsageChunk();
    return usageChunk === undefined ? doneFrame : `data: ${usageChunk}\n\n${doneFrame}`;
  }

  get usage(): Usage | undefined {
    return this.normalizer.usage;
  }

  get finishReasons(): string[] {
    return this.normalizer.finishReasons;
  }

  generated(): GeneratedText {
    return this.generatedText.read();
  }
}

/** The text a chunk generated: content, reasoning and tool-call arguments of every choice. */
function textOfChunk(chunk: JsonObject): string {
  if (!Array.isArray(chunk.choices)) return '';
  let text = '';
  for (const choice of chunk.choices) {
    const delta = isObject(choice) && isObject(choice.delta) ? choice.delta : {};
    for (const field of ['content', 'reasoning_content', 'reasoning', 'refusal']) {
      const value = delta[field];
      if (typeof value === 'string') text += value;
    }
    if (!Array.isArray(delta.tool_calls)) continue;
    for (const call of delta.tool_calls) {
      const fn = isObject(call) && isObject(call.function) ? call.function : {};
      if (typeof fn.name === 'string') text += fn.name;
      if (typeof fn.arguments === 'string') text += fn.arguments;
    }
  }
  return text;
}

/**
 * One upstream event as a chunk object; in-band errors (OpenAI `{"error":...}`, vLLM's
 * `{"object":"error"}`, `event: error`) and malformed frames become failures. An object that is
 * neither a chunk nor an error (no `choices`, no `usage`) is not for the client: undefined.
 */
function parseChunk(event: SseEvent, route: string): JsonObject | undefined {
  let chunk: unknown;
  try {
    chunk = JSON.parse(event.data);
  } catch {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route} sent a malformed event: ${event.data.slice(0, 200)}`, { route });
  }
  const details = readUpstreamError(chunk);
  if (event.event === 'error' || details !== undefined) {
    throw new GatewayError('upstream_stream_error', `Upstream ${route} reported an error: ${details?.message ?? event.data.slice(0, 200)}`, {
      route, upstreamType: details?.type, upstreamCode: details?.code, param: details?.param,
    });
  }
  if (!isObject(chunk)) throw new GatewayError('upstream_protocol_error', `Upstream ${route} sent an event that is not a chunk object.`, { route });
  return Array.isArray(chunk.choices) || isObject(chunk.usage) ? chunk : undefined;
}

/** An SSE data frame; JSON with line breaks (legal whitespace) needs one `data:` line per line. */
function dataFrame(json: string): string {
  return json.includes('\n') ? encodeSseData(json) : `data: ${json}\n\n`;
}
