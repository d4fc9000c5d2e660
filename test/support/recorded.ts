/**
 * Reads the real recordings in ../shared/fixtures/recorded (never copied into this repository)
 * into what a client must end up with, independently of Sluice's code: text, reasoning, tool
 * calls, finish/stop reason, usage, in-band errors. One reader per upstream protocol.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

export const recordedDir = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'recorded');
export const recordedAvailable = existsSync(recordedDir);

export function listRecorded(dir: string, ext: string): string[] {
  if (!recordedAvailable || !existsSync(join(recordedDir, dir))) return [];
  return readdirSync(join(recordedDir, dir)).filter((f) => f.endsWith(ext)).sort().map((f) => `${dir}/${f}`);
}

export function readRecorded(name: string): string {
  return readFileSync(join(recordedDir, name), 'utf8');
}

/** The SSE events of a recording: each event's name (if any) and parsed JSON (or raw text). */
export function sseEvents(raw: string): { event: string | undefined; data: string }[] {
  const out: { event: string | undefined; data: string }[] = [];
  for (const block of raw.replace(/\r\n?/g, '\n').split('\n\n')) {
    const lines = block.split('\n').filter((l) => l !== '' && !l.startsWith(':'));
    if (lines.length === 0) continue;
    const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
    out.push({ event, data });
  }
  return out;
}

/** A recorded HTTP response (`.http`): status, headers and body. */
export function parseHttpRecording(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', ...rest] = raw.replace(/\r\n/g, '\n').split('\n\n');
  const [statusLine = '', ...headerLines] = head.split('\n');
  const status = Number(/\s(\d{3})\s/.exec(statusLine)?.[1] ?? '0');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: rest.join('\n\n').trim() };
}

export interface ExpectedToolCall {
  id: string | undefined;
  name: string;
  /** The arguments exactly as streamed (concatenated fragments). */
  arguments: string;
}

export interface Expected {
  text: string;
  reasoning: string;
  tools: ExpectedToolCall[];
  /** The upstream's own finish/stop reason. */
  finish: string | undefined;
  /** Normalised like Sluice's Usage: input includes cached tokens; output includes reasoning. */
  usage: { input: number; cacheRead: number; cacheWrite: number; output: number } | undefined;
  error: { type: string | undefined; message: string } | undefined;
  /** Anthropic recordings: thinking block signatures. */
  signatures: string[];
}

const blank = (): Expected => ({ text: '', reasoning: '', tools: [], finish: undefined, usage: undefined, error: undefined, signatures: [] });

// ----- Anthropic -------------------------------------------------------------------------------

export interface AnthropicRecording extends Expected {
  /** Every event's JSON, in order, pings included. */
  events: Json[];
  blocks: Json[];
  messageStarts: number;
}

export function readAnthropicRecording(raw: string): AnthropicRecording {
  const out: AnthropicRecording = { ...blank(), events: [], blocks: [], messageStarts: 0 };
  const blocks = new Map<number, Json>();
  let usage: Json = {};
  for (const { data } of sseEvents(raw)) {
    const event = JSON.parse(data) as Json;
    out.events.push(event);
    switch (event.type) {
      case 'message_start':
        out.messageStarts++;
        usage = { ...event.message.usage };
        break;
      case 'content_block_start':
        blocks.set(event.index, { ...event.content_block, partial: '' });
        break;
      case 'content_block_delta': {
        const block = blocks.get(event.index);
        const d = event.delta;
        if (!block) break;
        if (d.type === 'text_delta') block.text = (block.text ?? '') + d.text;
        if (d.type === 'thinking_delta') block.thinking = (block.thinking ?? '') + d.thinking;
        if (d.type === 'signature_delta') block.signature = d.signature;
        if (d.type === 'input_json_delta') block.partial += d.partial_json;
        break;
      }
      case 'message_delta':
        out.finish = event.delta?.stop_reason ?? out.finish;
        for (const [k, v] of Object.entries(event.usage ?? {})) if (v !== null && v !== undefined) usage[k] = v;
        break;
      case 'error':
        out.error = { type: event.error?.type, message: event.error?.message };
        break;
      default:
        break;
    }
  }
  out.blocks = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
  for (const block of out.blocks) {
    if (block.type === 'text') out.text += block.text ?? '';
    if (block.type === 'thinking') {
      out.reasoning += block.thinking ?? '';
      if (block.signature) out.signatures.push(block.signature);
    }
    if (block.type === 'tool_use') out.tools.push({ id: block.id, name: block.name, arguments: block.partial });
  }
  if (usage.input_tokens !== undefined) {
    const cacheRead = usage.cache_read_input_tokens ?? 0;
    const cacheWrite = usage.cache_creation_input_tokens ?? 0;
    out.usage = { input: usage.input_tokens + cacheRead + cacheWrite, cacheRead, cacheWrite, output: usage.output_tokens ?? 0 };
  }
  return out;
}

// ----- OpenAI Chat Completions (choice 0) ------------------------------------------------------

export interface OpenAiRecording extends Expected {
  /** Refusal text (`delta.refusal`), apart from content. */
  refusal: string;
  choices: number;
}

export function readOpenAiRecording(raw: string): OpenAiRecording {
  const out: OpenAiRecording = { ...blank(), refusal: '', choices: 0 };
  const slots = new Map<string, ExpectedToolCall>();
  const choiceIndexes = new Set<number>();
  let lastKey: string | undefined;
  for (const { data } of sseEvents(raw)) {
    if (data === '[DONE]') continue;
    const chunk = JSON.parse(data) as Json;
    if (chunk.error) {
      out.error = { type: chunk.error.type, message: chunk.error.message };
      continue;
    }
    if (chunk.usage) {
      const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
      // Vendors disagree on whether completion_tokens include reasoning (xAI's do not; its
      // total_tokens does): what was generated is total - prompt whenever a total is given.
      const total = chunk.usage.total_tokens;
      const output = Number.isInteger(total) ? total - chunk.usage.prompt_tokens : chunk.usage.completion_tokens;
      out.usage = { input: chunk.usage.prompt_tokens, cacheRead: cached, cacheWrite: 0, output };
    }
    for (const choice of chunk.choices ?? []) {
      choiceIndexes.add(choice.index);
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string') out.text += delta.content;
      if (typeof delta.refusal === 'string') out.refusal += delta.refusal;
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string') out.reasoning += reasoning;
      for (const call of delta.tool_calls ?? []) {
        // Calls are told apart by index, else by id (Mistral sends neither index nor type).
        const key = call.index !== undefined ? `i${call.index}` : call.id ? `id${call.id}` : (lastKey ?? 'i0');
        lastKey = key;
        let slot = slots.get(key);
        if (!slot) {
          slot = { id: call.id, name: '', arguments: '' };
          slots.set(key, slot);
          out.tools.push(slot);
        }
        if (typeof call.id === 'string' && !slot.id) slot.id = call.id;
        if (typeof call.function?.name === 'string' && slot.name === '') slot.name = call.function.name;
        if (typeof call.function?.arguments === 'string') slot.arguments += call.function.arguments;
      }
      if (typeof choice.finish_reason === 'string') out.finish = choice.finish_reason;
    }
  }
  out.choices = choiceIndexes.size;
  return out;
}

// ----- Gemini ----------------------------------------------------------------------------------

export interface GeminiRecording extends Expected {
  thoughtSignatures: string[];
  /** Gemini's own counters (last usageMetadata). */
  usageMetadata: Json | undefined;
}

/** Reads GenerateContentResponse chunks (an SSE recording or one JSON answer). */
export function readGeminiRecording(chunks: Json[]): GeminiRecording {
  const out: GeminiRecording = { ...blank(), thoughtSignatures: [], usageMetadata: undefined };
  let streaming: ExpectedToolCall & { args: Json } | undefined;
  const finishCall = (): void => {
    if (!streaming) return;
    out.tools.push({ id: undefined, name: streaming.name, arguments: JSON.stringify(streaming.args) });
    streaming = undefined;
  };
  for (const chunk of chunks) {
    if (chunk.error) {
      out.error = { type: chunk.error.status, message: chunk.error.message };
      continue;
    }
    if (chunk.usageMetadata) out.usageMetadata = chunk.usageMetadata;
    const candidate = chunk.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      if (typeof part.thoughtSignature === 'string') out.thoughtSignatures.push(part.thoughtSignature);
      if (typeof part.text === 'string') {
        if (part.thought) out.reasoning += part.text;
        else out.text += part.text;
      }
      const call = part.functionCall;
      if (call) {
        if (typeof call.name === 'string') {
          finishCall();
          if (call.willContinue) streaming = { id: call.id, name: call.name, arguments: '', args: { ...(call.args ?? {}) } };
          else out.tools.push({ id: call.id, name: call.name, arguments: JSON.stringify(call.args ?? {}) });
        } else if (streaming) {
          // Vertex streams arguments as partialArgs (jsonPath + value); an empty functionCall ends the call.
          for (const arg of call.partialArgs ?? []) {
            const key = String(arg.jsonPath).replace(/^\$\./, '');
            if (typeof arg.stringValue === 'string') streaming.args[key] = (streaming.args[key] ?? '') + arg.stringValue;
            else if ('numberValue' in arg) streaming.args[key] = arg.numberValue;
            else if ('boolValue' in arg) streaming.args[key] = arg.boolValue;
            else if ('nullValue' in arg) streaming.args[key] = null;
          }
          if (!call.willContinue && !call.partialArgs) finishCall();
        }
      }
    }
    if (candidate?.finishReason) out.finish = candidate.finishReason;
  }
  finishCall();
  const u = out.usageMetadata;
  if (u && Number.isInteger(u.promptTokenCount)) {
    out.usage = { input: u.promptTokenCount, cacheRead: u.cachedContentTokenCount ?? 0, cacheWrite: 0, output: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0) };
  }
  return out;
}

export function geminiChunksOf(raw: string): Json[] {
  return sseEvents(raw).map(({ data }) => JSON.parse(data) as Json);
}

// ----- Finish / stop reasons across protocols (wire-formats.md sections 2.3, 3.2, 4) -----------

export const anthropicToOpenAi: Record<string, string> = {
  end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', max_tokens: 'length', model_context_window_exceeded: 'length', tool_use: 'tool_calls', refusal: 'content_filter',
};

export const openAiToAnthropic: Record<string, string> = {
  stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', function_call: 'tool_use', content_filter: 'refusal',
};

export function geminiToOpenAi(reason: string | undefined, calledTools: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason === 'STOP' || reason === undefined) return calledTools ? 'tool_calls' : 'stop';
  return 'content_filter';
}

export function geminiToAnthropic(reason: string | undefined, calledTools: boolean): string {
  if (reason === 'MAX_TOKENS') return 'max_tokens';
  if (reason === 'STOP' || reason === undefined) return calledTools ? 'tool_use' : 'end_turn';
  return 'refusal';
}
