/**
 * The official clients as the translation matrix drives them, each reduced to one comparable
 * Outcome (text, reasoning, tool calls, finish/stop reason, usage) so a scenario's expectations
 * are written once per client protocol. Every run is bounded by a timeout: a broken stream fails
 * the test instead of hanging it.
 */
import type OpenAI from 'openai';
import type Anthropic from '@anthropic-ai/sdk';
import { streamText, jsonSchema, tool, type LanguageModel } from 'ai';
import { sdkChunks } from './sdk-chunks.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface OutcomeToolCall {
  id: string;
  name: string;
  /** The arguments as the client got them (a JSON string; Anthropic's input re-serialised). */
  arguments: string;
}

export interface Outcome {
  text: string;
  reasoning: string;
  toolCalls: OutcomeToolCall[];
  finish: string | null | undefined;
  usage: Json | undefined;
  /** Anthropic clients: the signature of each thinking block (undefined when it has none). */
  signatures: (string | undefined)[];
  /** Anthropic clients: the block types in order. */
  blockTypes: string[];
  /** Raw stream clients: every chunk / event received. */
  events: Json[];
}

const emptyOutcome = (): Outcome => ({ text: '', reasoning: '', toolCalls: [], finish: undefined, usage: undefined, signatures: [], blockTypes: [], events: [] });

export const toolParameters = {
  get_weather: {
    type: 'object',
    properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
  get_time: {
    type: 'object',
    properties: { timezone: { type: 'string' }, format: { type: 'string' } },
    required: ['timezone'],
  },
} as const;

export const openAiTools = Object.entries(toolParameters).map(([name, parameters]) => ({
  type: 'function' as const,
  function: { name, description: `The ${name.slice(4)} somewhere`, parameters: parameters as unknown as Record<string, unknown> },
}));

export const anthropicTools = Object.entries(toolParameters).map(([name, schema]) => ({
  name,
  description: `The ${name.slice(4)} somewhere`,
  input_schema: schema as unknown as Anthropic.Messages.Tool.InputSchema,
}));

export const prompt = 'What are the weather and the time in Paris?';
export const systemPrompt = 'You are terse.';

export function openAiBody(model: string, extra: Json = {}): Json {
  return {
    model,
    messages: [{ role: 'system', content: systemPrompt }, { role: 'user', content: prompt }],
    tools: openAiTools,
    ...extra,
  };
}

export function anthropicBody(model: string, extra: Json = {}): Json {
  return { model, max_tokens: 512, system: systemPrompt, messages: [{ role: 'user', content: prompt }], tools: anthropicTools, ...extra };
}

const signal = (ms = 10_000): AbortSignal => AbortSignal.timeout(ms);

// ----- OpenAI ----------------------------------------------------------------------------------

/** `chat.completions.stream(...).finalChatCompletion()`; reasoning from the chunks (the helper keeps only the last delta's). */
export async function openAiHelper(client: OpenAI, body: Json): Promise<Outcome> {
  const out = emptyOutcome();
  const stream = client.chat.completions.stream({ ...body, stream: true, stream_options: { include_usage: true } } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming, { signal: signal() });
  stream.on('chunk', (chunk) => {
    out.events.push(chunk as unknown as Json);
    for (const choice of chunk.choices) {
      const reasoning = (choice.delta as Json).reasoning_content;
      if (typeof reasoning === 'string') out.reasoning += reasoning;
    }
  });
  const final = await stream.finalChatCompletion();
  const choice = final.choices[0];
  out.text = choice?.message.content ?? '';
  out.finish = choice?.finish_reason;
  out.toolCalls = (choice?.message.tool_calls ?? []).map((c) => (c.type === 'function' ? { id: c.id, name: c.function.name, arguments: c.function.arguments } : { id: c.id, name: '', arguments: '' }));
  out.usage = final.usage as Json | undefined;
  return out;
}

/** Raw `create({stream: true})` iteration, assembled by hand. */
export async function openAiRaw(client: OpenAI, body: Json, onChunk?: (chunk: Json) => void): Promise<Outcome> {
  const out = emptyOutcome();
  const slots = new Map<number, OutcomeToolCall>();
  await sdkChunks(client, { ...body, stream_options: { include_usage: true } }, (chunk) => {
    out.events.push(chunk);
    onChunk?.(chunk);
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string') out.text += delta.content;
      if (typeof delta.reasoning_content === 'string') out.reasoning += delta.reasoning_content;
      for (const fragment of delta.tool_calls ?? []) {
        let slot = slots.get(fragment.index);
        if (slot === undefined) {
          slot = { id: fragment.id ?? '', name: fragment.function?.name ?? '', arguments: '' };
          slots.set(fragment.index, slot);
          out.toolCalls.push(slot);
        }
        if (typeof fragment.function?.arguments === 'string') slot.arguments += fragment.function.arguments;
      }
      if (choice.finish_reason) out.finish = choice.finish_reason;
    }
  });
  return out;
}

/** Non-stream `create`. */
export async function openAiUnary(client: OpenAI, body: Json): Promise<Outcome> {
  const out = emptyOutcome();
  const completion = (await client.chat.completions.create({ ...body, stream: false } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, { signal: signal() })) as unknown as Json;
  const choice = completion.choices?.[0];
  out.events.push(completion);
  out.text = choice?.message?.content ?? '';
  out.reasoning = choice?.message?.reasoning_content ?? '';
  out.finish = choice?.finish_reason;
  out.toolCalls = (choice?.message?.tool_calls ?? []).map((c: Json) => ({ id: c.id, name: c.function?.name, arguments: c.function?.arguments }));
  out.usage = completion.usage;
  return out;
}

// ----- Anthropic -------------------------------------------------------------------------------

function fromMessage(message: Json, out: Outcome): Outcome {
  for (const block of message.content ?? []) {
    out.blockTypes.push(block.type);
    if (block.type === 'text') out.text += block.text;
    if (block.type === 'thinking') {
      out.reasoning += block.thinking;
      out.signatures.push(block.signature === '' || block.signature === null ? undefined : block.signature);
    }
    if (block.type === 'tool_use') out.toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
  }
  out.finish = message.stop_reason;
  out.usage = message.usage;
  return out;
}

/** `messages.stream(...).finalMessage()`. */
export async function anthropicHelper(client: Anthropic, body: Json): Promise<Outcome> {
  const out = emptyOutcome();
  const stream = client.messages.stream(body as Anthropic.Messages.MessageStreamParams, { signal: signal() });
  stream.on('streamEvent', (event) => void out.events.push(event as unknown as Json));
  return fromMessage((await stream.finalMessage()) as unknown as Json, out);
}

/** Raw iteration of `messages.create({stream: true})`, assembled by hand from the JSON types. */
export async function anthropicRaw(client: Anthropic, body: Json, onEvent?: (event: Json) => void): Promise<Outcome> {
  const out = emptyOutcome();
  const stream = await client.messages.create({ ...body, stream: true } as Anthropic.Messages.MessageCreateParamsStreaming, { signal: signal() });
  const blocks = new Map<number, Json>();
  for await (const raw of stream) {
    const event = raw as unknown as Json;
    out.events.push(event);
    onEvent?.(event);
    if (event.type === 'message_start') out.usage = { ...event.message.usage };
    if (event.type === 'content_block_start') blocks.set(event.index, { ...event.content_block, partial: '' });
    if (event.type === 'content_block_delta') {
      const block = blocks.get(event.index);
      if (!block) continue;
      const d = event.delta;
      if (d.type === 'text_delta') block.text += d.text;
      if (d.type === 'thinking_delta') block.thinking += d.thinking;
      if (d.type === 'signature_delta') block.signature = d.signature;
      if (d.type === 'input_json_delta') block.partial += d.partial_json;
    }
    if (event.type === 'message_delta') {
      out.finish = event.delta.stop_reason;
      for (const [k, v] of Object.entries(event.usage ?? {})) if (v !== null && v !== undefined) out.usage = { ...out.usage, [k]: v };
    }
  }
  const content = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, block]) => {
    if (block.type === 'tool_use') return { ...block, input: block.partial === '' ? {} : JSON.parse(block.partial) };
    return block;
  });
  const usage = out.usage;
  const finish = out.finish;
  fromMessage({ content, stop_reason: finish, usage }, out);
  return out;
}

/** Non-stream `messages.create`. */
export async function anthropicUnary(client: Anthropic, body: Json): Promise<Outcome> {
  const out = emptyOutcome();
  const message = (await client.messages.create({ ...body, stream: false } as Anthropic.Messages.MessageCreateParamsNonStreaming, { signal: signal() })) as unknown as Json;
  out.events.push(message);
  return fromMessage(message, out);
}

// ----- Vercel AI SDK ---------------------------------------------------------------------------

export interface AiSdkOutcome extends Outcome {
  errors: unknown[];
  /** The AI SDK's normalised usage (inputTokens include cached tokens whatever the protocol). */
  sdkUsage: Json | undefined;
}

export const aiSdkTools = {
  get_weather: tool({ description: 'The weather somewhere', inputSchema: jsonSchema(toolParameters.get_weather as never) }),
  get_time: tool({ description: 'The time somewhere', inputSchema: jsonSchema(toolParameters.get_time as never) }),
};

/** `streamText` over the whole fullStream; errors are collected, not thrown. */
export async function aiSdkRun(model: LanguageModel, options: { maxOutputTokens?: number } = {}): Promise<AiSdkOutcome> {
  const out: AiSdkOutcome = { ...emptyOutcome(), errors: [], sdkUsage: undefined };
  const result = streamText({
    model,
    system: systemPrompt,
    prompt,
    tools: aiSdkTools,
    maxRetries: 0,
    abortSignal: signal(),
    ...(options.maxOutputTokens ? { maxOutputTokens: options.maxOutputTokens } : {}),
    onError: () => {},
  });
  for await (const part of result.fullStream) {
    out.events.push(part as Json);
    switch (part.type) {
      case 'text-delta':
        out.text += part.text;
        break;
      case 'reasoning-delta': {
        out.reasoning += part.text;
        const signature = (part.providerMetadata?.anthropic as Json | undefined)?.signature;
        if (typeof signature === 'string') out.signatures.push(signature);
        break;
      }
      case 'tool-call':
        out.toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: JSON.stringify(part.input) });
        break;
      case 'finish':
        out.finish = part.finishReason;
        out.sdkUsage = part.totalUsage as Json;
        break;
      case 'error':
        out.errors.push(part.error);
        break;
      default:
        break;
    }
  }
  return out;
}
