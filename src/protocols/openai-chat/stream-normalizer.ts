import type { Usage } from '../../core/usage.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { ContentChunkTemplate, type TemplateMatch } from './content-chunk-template.js';
import { ToolCallIndexer } from './tool-call-indexer.js';
import { usageFromOpenAi } from './usage.js';

const envelopeKeys = ['id', 'created', 'model'] as const;

interface ChoiceState {
  roleSeen: boolean;
  finishReason: string | undefined;
  tools: ToolCallIndexer | undefined;
}

/**
 * The tap on an OpenAI-compatible stream relayed to an OpenAI client. Chunks pass through byte for
 * byte unless one of the client contract's rules needs a change, and only then are they
 * re-serialised:
 * - each choice's first chunk carries `delta.role`;
 * - reasoning named `reasoning` (vLLM, OpenRouter) reaches the client as `reasoning_content`;
 * - tool-call indexes are dense from 0 per choice (ToolCallIndexer);
 * - usage: Sluice always asks the upstream for it; the client sees the `choices: []` usage chunk,
 *   and `usage: null` on every other chunk, only when it asked. Usage an upstream puts on its
 *   finish chunk (DeepSeek, Groq, Mistral) is moved into a separate final chunk.
 * Unknown fields are never touched.
 */
export class OpenAiStreamNormalizer {
  usage: Usage | undefined;
  private readonly choices = new Map<number, ChoiceState>();
  private sawUsageChunk = false;
  /** The finish chunk that carried usage, kept to build the separate usage chunk from. */
  private usageCarrier: JsonObject | undefined;
  private usagePayload: unknown;
  private envelope: Record<(typeof envelopeKeys)[number], unknown> | undefined;
  private readonly template = new ContentChunkTemplate();

  constructor(private readonly clientWantsUsage: boolean) {}

  /**
   * Normalises one parsed chunk. Returns the JSON to send (the original text when nothing changed)
   * or undefined when the chunk is not for this client; `content` reports whether the chunk
   * carried content, which is the commit point.
   */
  normalize(chunk: JsonObject, raw: string): { json: string | undefined; content: boolean } {
    let dirty = this.normalizeEnvelope(chunk);
    let content = false;
    let statefulChange = false;
    const choices = chunk.choices;
    if (Array.isArray(choices)) {
      for (const choice of choices) {
        if (!isObject(choice)) continue;
        const state = this.choiceState(typeof choice.index === 'number' ? choice.index : 0);
        if (!state.roleSeen) statefulChange = true;
        let delta: JsonObject;
        if (isObject(choice.delta)) delta = choice.delta;
        else {
          delta = {};
          choice.delta = delta;
          dirty = true;
        }
        if (this.normalizeDelta(delta, state)) dirty = true;
        if (hasDeltaContent(delta)) content = true;
        if (typeof choice.finish_reason === 'string') {
          state.finishReason = choice.finish_reason;
          content = true;
        }
      }
    }
    const usage = chunk.usage;
    if (isObject(usage)) {
      this.usage = usageFromOpenAi(usage);
      if (Array.isArray(choices) && choices.length === 0) {
        this.sawUsageChunk = true;
        if (!this.clientWantsUsage) return { json: undefined, content };
      } else {
        this.usageCarrier = chunk;
        this.usagePayload = usage;
        if (this.clientWantsUsage) chunk.usage = null;
        else delete chunk.usage;
        dirty = true;
      }
    } else if (this.clientWantsUsage) {
      if (usage !== null) {
        chunk.usage = null;
        dirty = true;
      }
    } else if (usage !== undefined) {
      delete chunk.usage;
      dirty = true;
    }
    const json = dirty ? JSON.stringify(chunk) : raw;
    if (!statefulChange) this.learnTemplate(chunk, raw, json);
    return { json, content };
  }

  /**
   * A raw chunk that matches the last content-only chunk outside its text: normalised without
   * parsing (ContentChunkTemplate). Undefined means: parse it and call normalize().
   */
  normalizeUnparsed(raw: string): TemplateMatch | undefined {
    return this.template.apply(raw);
  }

  /** Every choice seen so far has a finish reason. */
  get allChoicesFinished(): boolean {
    if (this.choices.size === 0) return false;
    for (const state of this.choices.values()) if (state.finishReason === undefined) return false;
    return true;
  }

  get finishReasons(): string[] {
    return [...this.choices.values()].map((s) => s.finishReason ?? 'incomplete');
  }

  /**
   * The separate usage chunk the client asked for, when the upstream only put usage on its finish
   * chunk. Sent right before [DONE].
   */
  trailingUsageChunk(): string | undefined {
    if (!this.clientWantsUsage || this.sawUsageChunk || this.usageCarrier === undefined) return undefined;
    const carrier = this.usageCarrier;
    const chunk: JsonObject = { id: carrier.id, object: 'chat.completion.chunk', created: carrier.created, model: carrier.model };
    if (carrier.system_fingerprint !== undefined) chunk.system_fingerprint = carrier.system_fingerprint;
    chunk.choices = [];
    chunk.usage = this.usagePayload;
    return JSON.stringify(chunk);
  }

  /**
   * Every chunk of one completion carries the same id, created and model, and `object` (the SDK
   * types promise it; xAI changes `created` mid-stream, Copilot omits `object`).
   */
  private normalizeEnvelope(chunk: JsonObject): boolean {
    let dirty = false;
    if (chunk.object !== 'chat.completion.chunk') {
      chunk.object = 'chat.completion.chunk';
      dirty = true;
    }
    const first = this.envelope;
    if (first === undefined) {
      this.envelope = { id: chunk.id, created: chunk.created, model: chunk.model };
      return dirty;
    }
    for (const key of envelopeKeys) {
      if (chunk[key] !== first[key] && first[key] !== undefined) {
        chunk[key] = first[key];
        dirty = true;
      }
    }
    return dirty;
  }

  /** Only a chunk with one choice whose delta is just `content`, and no usage, is a template. */
  private learnTemplate(chunk: JsonObject, raw: string, json: string): void {
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length !== 1 || isObject(chunk.usage)) return;
    const choice: unknown = choices[0];
    if (!isObject(choice) || (choice.finish_reason !== null && choice.finish_reason !== undefined) || !isObject(choice.delta)) return;
    const keys = Object.keys(choice.delta);
    const content = choice.delta.content;
    if (keys.length === 1 && typeof content === 'string') this.template.learn(raw, json, content);
  }

  private choiceState(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (state === undefined) {
      state = { roleSeen: false, finishReason: undefined, tools: undefined };
      this.choices.set(index, state);
    }
    return state;
  }

  private normalizeDelta(delta: JsonObject, state: ChoiceState): boolean {
    let dirty = false;
    if (!state.roleSeen) {
      state.roleSeen = true;
      if (delta.role === undefined) {
        delta.role = 'assistant';
        dirty = true;
      }
    }
    if ('reasoning' in delta) {
      // vLLM renamed reasoning_content -> reasoning (vllm PR #27752); OpenAI clients read reasoning_content.
      if (delta.reasoning_content === undefined || delta.reasoning_content === null) delta.reasoning_content = delta.reasoning;
      delete delta.reasoning;
      dirty = true;
    }
    const calls = delta.tool_calls;
    if (Array.isArray(calls) && calls.length > 0) {
      state.tools ??= new ToolCallIndexer();
      if (state.tools.normalize(calls)) dirty = true;
    }
    return dirty;
  }
}

function hasDeltaContent(delta: JsonObject): boolean {
  return (
    nonEmptyString(delta.content) ||
    nonEmptyString(delta.reasoning_content) ||
    nonEmptyString(delta.refusal) ||
    (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) ||
    isObject(delta.function_call) ||
    isObject(delta.audio)
  );
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}
