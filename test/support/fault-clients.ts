/**
 * The official SDKs as the fault-injection suite drives them, one request per run, never retried
 * (maxRetries: 0), each bounded by a timeout. The SDK's fetch is wrapped to record the response
 * head (status, x-request-id) and, by default, a byte-exact copy of the body the SDK parsed, so a
 * test checks the raw stream of the very request whose SDK view it also checks.
 *
 * Modes: 'helper' is what most apps call (`chat.completions.stream().finalChatCompletion()`,
 * `messages.stream().finalMessage()`), which validate the most; 'iterate' is the raw
 * `create({stream: true})` iteration, which pulls from the socket only as the loop asks (the
 * helpers read eagerly), so a slow loop is a slow reader; 'unary' is a non-stream `create`.
 */
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { clientKey, type TestSluice } from './sluice.js';

export type Ingress = 'openai' | 'anthropic';
export const ingresses: Ingress[] = ['openai', 'anthropic'];

export const prompt = 'Say hello to my friend.';

export interface SdkRun {
  requestId: string | null;
  /** HTTP status of the response head; 0 if none arrived. */
  status: number;
  /** The text the SDK delivered. */
  text: string;
  /** What the SDK threw, if anything. */
  error: unknown;
  /** The response body exactly as the SDK read it ('' unless recorded). */
  raw: string;
  /** When the SDK call returned or threw (Date.now()). */
  endedAt: number;
  /** The client left on purpose (RunOptions.leave). */
  left: boolean;
}

export interface RunOptions {
  mode?: 'helper' | 'iterate' | 'unary';
  /** Abort the request once this much text has arrived, or this long after it was sent. */
  leave?: { whenText?: string; afterMs?: number };
  /** Copy the raw body (default true). The copy is read eagerly: turn it off for a slow reader. */
  recordRaw?: boolean;
  /** 'iterate' mode: called after each text delta; a returned promise pauses the loop (a slow reader). */
  onText?: (text: string) => void | Promise<void>;
  maxTokens?: number;
}

/** One request through the official SDK of `ingress` to model `model`. */
export async function runSdk(ingress: Ingress, sluice: TestSluice, model: string, options: RunOptions = {}): Promise<SdkRun> {
  const run: SdkRun = { requestId: null, status: 0, text: '', error: undefined, raw: '', endedAt: 0, left: false };
  const controller = new AbortController();
  const leave = (): void => {
    if (run.left) return;
    run.left = true;
    controller.abort();
  };
  const timer = options.leave?.afterMs === undefined ? undefined : setTimeout(leave, options.leave.afterMs);
  // Not AbortSignal.timeout()/any(): their timers and listeners outlive the request (Node 20),
  // which the leak tests would count against Sluice.
  const hardTimeout = setTimeout(() => controller.abort(new Error('the SDK call took over 20 s')), 20_000);
  const onText = async (text: string): Promise<void> => {
    run.text = text;
    if (options.leave?.whenText !== undefined && text === options.leave.whenText) leave();
    await options.onText?.(text);
  };
  const recorder = recordingFetch(run, options.recordRaw ?? true);
  const signal = controller.signal;
  try {
    const drive = ingress === 'openai' ? driveOpenAi : driveAnthropic;
    await drive({ sluice, model, mode: options.mode ?? 'helper', fetch: recorder.fetch, signal, onText, maxTokens: options.maxTokens ?? 256 });
  } catch (error) {
    run.error = error;
  } finally {
    clearTimeout(timer);
    clearTimeout(hardTimeout);
    run.endedAt = Date.now();
  }
  await recorder.copied;
  return run;
}

interface Drive {
  sluice: TestSluice;
  model: string;
  mode: 'helper' | 'iterate' | 'unary';
  fetch: typeof fetch;
  signal: AbortSignal;
  onText: (text: string) => Promise<void>;
  maxTokens: number;
}

async function driveOpenAi({ sluice, model, mode, fetch, signal, onText, maxTokens }: Drive): Promise<void> {
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 20_000, fetch });
  const body = { model, max_tokens: maxTokens, messages: [{ role: 'user' as const, content: prompt }] };
  if (mode === 'unary') {
    const completion = await client.chat.completions.create(body, { signal });
    return onText(completion.choices[0]?.message.content ?? '');
  }
  const streamBody = { ...body, stream: true as const, stream_options: { include_usage: true } };
  if (mode === 'iterate') {
    let text = '';
    for await (const chunk of await client.chat.completions.create(streamBody, { signal })) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) await onText((text += delta));
    }
    return;
  }
  const stream = client.chat.completions.stream(streamBody, { signal });
  stream.on('content', (_delta, snapshot) => void onText(snapshot));
  await stream.finalChatCompletion();
}

async function driveAnthropic({ sluice, model, mode, fetch, signal, onText, maxTokens }: Drive): Promise<void> {
  const client = new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0, timeout: 20_000, fetch });
  const body = { model, max_tokens: maxTokens, messages: [{ role: 'user' as const, content: prompt }] };
  if (mode === 'unary') {
    const message = await client.messages.create(body, { signal });
    return onText(message.content.map((b) => (b.type === 'text' ? b.text : '')).join(''));
  }
  if (mode === 'iterate') {
    let text = '';
    for await (const event of await client.messages.create({ ...body, stream: true }, { signal })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') await onText((text += event.delta.text));
    }
    return;
  }
  const stream = client.messages.stream(body, { signal });
  stream.on('text', (_delta, snapshot) => void onText(snapshot));
  await stream.finalMessage();
}

/** A fetch that records the response head and (optionally) tees a copy of the body into run.raw. */
function recordingFetch(run: SdkRun, copyBody: boolean): { fetch: typeof fetch; copied: Promise<void> } {
  let copied: Promise<void> = Promise.resolve();
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    run.status = response.status;
    run.requestId = response.headers.get('x-request-id');
    if (!copyBody || response.body === null) return response;
    const [forSdk, copy] = response.body.tee();
    copied = collect(copy, run);
    return new Response(forSdk, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return {
    fetch: recording,
    get copied() {
      return copied;
    },
  };
}

async function collect(body: ReadableStream<Uint8Array>, run: SdkRun): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const bytes of body) run.raw += decoder.decode(bytes, { stream: true });
    run.raw += decoder.decode();
  } catch {
    // The request was aborted or cut: what arrived is what the test checks.
  }
}
