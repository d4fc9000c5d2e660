/**
 * `kind: local`: GGUF models run in-process by node-llama-cpp (an optional dependency, imported
 * on the first request, so Sluice installs and runs without it when no local model is used).
 * The provider answers like an OpenAI-compatible server: the request body is Chat Completions
 * JSON, the answer SSE chunks or a chat.completion object, errors OpenAI error bodies with HTTP
 * statuses. Everything past send() (commit point, retries, translation for Anthropic clients,
 * the ledger) is the same as for a remote upstream.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Llama, LlamaContextSequence } from 'node-llama-cpp';
import { Cancellation } from '../../core/cancellation.js';
import type { UpstreamTarget } from '../../protocols/codec.js';
import type { Provider, UpstreamCall, UpstreamResponse, UpstreamTimeouts } from '../provider.js';
import { LocalRequestError, readChatRequest, type LocalChatRequest } from './chat-request.js';
import { countPromptTokens, generate, type GenerationResult } from './local-generation.js';
import { LocalModel, QueueFullError } from './local-model.js';
import { completionJson, OpenAiChunkWriter } from './openai-output.js';
import { PushBody } from './push-body.js';
import { abortError } from '../transport-errors.js';

export interface LocalProviderOptions {
  name: string;
  /** Absolute folder the routes' model files are relative to. */
  modelsDir: string;
  threads: number;
  contextSize: number | undefined;
  sequences: number;
  maxQueue: number;
  gpu: 'auto' | false;
  timeouts: UpstreamTimeouts;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** One llama.cpp runtime per process, shared by every local provider. */
let runtime: Promise<{ library: NodeLlamaCpp; llama: Llama }> | undefined;

function loadRuntime(gpu: 'auto' | false, threads: number): Promise<{ library: NodeLlamaCpp; llama: Llama }> {
  runtime ??= (async () => {
    let library: NodeLlamaCpp;
    try {
      library = await import('node-llama-cpp');
    } catch (error) {
      throw new RuntimeMissingError(`node-llama-cpp could not be loaded (${(error as Error).message}); local models need it: npm install node-llama-cpp`);
    }
    // build: never: if no prebuilt binary fits, fail now rather than try to compile llama.cpp.
    // maxThreads caps the runtime's own pool too: left at its default (4 on a 2-core VM), streamed
    // throughput fell ~20 % even with the context on 1 thread (measured). The first local provider
    // to load a model sets it for the process.
    const llama = await library.getLlama({ gpu, build: 'never', skipDownload: true, maxThreads: threads, logLevel: library.LlamaLogLevel.error });
    return { library, llama };
  })();
  runtime.catch(() => { runtime = undefined; });
  return runtime;
}

class RuntimeMissingError extends Error {}

const failedLoadMemoryMs = 10_000;

export class LocalProvider implements Provider {
  readonly protocol = 'openai-chat' as const;
  readonly name: string;
  readonly timeouts: UpstreamTimeouts;
  private readonly models = new Map<string, Promise<LocalModel>>();

  constructor(private readonly options: LocalProviderOptions) {
    this.name = options.name;
    this.timeouts = options.timeouts;
  }

  target(model: string): UpstreamTarget {
    return { model, sendStreamOptions: true, maxTokensField: 'max_tokens' };
  }

  async send(call: UpstreamCall): Promise<UpstreamResponse> {
    let request: LocalChatRequest;
    try {
      request = readChatRequest(call.body);
    } catch (error) {
      if (error instanceof LocalRequestError) return errorResponse(400, 'invalid_request_error', error.message, error.param);
      throw error;
    }
    const path = await this.modelPath(call.model);
    if (path === undefined) return errorResponse(404, 'invalid_request_error', `The local model ${call.model} is not in ${this.options.modelsDir}.`, 'model', 'model_not_found');
    let model: LocalModel;
    try {
      model = await this.model(path);
    } catch (error) {
      const status = error instanceof RuntimeMissingError ? 503 : 500;
      return errorResponse(status, 'server_error', `The local model ${call.model} could not be loaded: ${messageOf(error)}`);
    }
    throwIfAborted(call.signal);
    let promptTokens: number;
    try {
      promptTokens = countPromptTokens(model, request);
    } catch (error) {
      // The chat template refused the messages (some insist that roles alternate).
      return errorResponse(400, 'invalid_request_error', `The local model ${call.model} cannot take these messages: ${messageOf(error)}`, 'messages');
    }
    const room = model.contextSize - promptTokens;
    if (room <= 0) {
      return errorResponse(400, 'invalid_request_error', `This model's context holds ${model.contextSize} tokens; the messages take ${promptTokens}.`, 'messages', 'context_length_exceeded');
    }
    let sequence: LlamaContextSequence;
    try {
      sequence = await model.acquire(call.signal);
    } catch (error) {
      // 429, not 503: the breaker then cools the route for the Retry-After second only (a 5xx
      // counts as a fault, and three in a row would shut a merely busy model out for 30 s).
      if (error instanceof QueueFullError) return errorResponse(429, 'rate_limit_exceeded', `The local model ${call.model} is busy: every sequence is in use and ${model.queued} requests are waiting.`, null, 'model_busy', { 'retry-after': '1' });
      throw error;
    }
    if (call.signal.aborted) {
      model.release(sequence);
      throwIfAborted(call.signal);
    }
    // Without max_tokens: what the context still holds (finish "length"), never an endless
    // context shift by a model that does not stop.
    const bounded = { ...request, maxTokens: Math.min(request.maxTokens ?? room, room) };
    return this.answer(call, model, sequence, bounded, promptTokens);
  }

  /** Runs the generation; the head goes out once the first text exists, so a request the model cannot run is a 400. */
  private async answer(call: UpstreamCall, model: LocalModel, sequence: LlamaContextSequence, request: LocalChatRequest, promptTokens: number): Promise<UpstreamResponse> {
    const stop = new Cancellation();
    const stopGeneration = (): void => stop.abort(call.signal.reason);
    call.signal.onAbort(stopGeneration);
    const body = new PushBody(() => stop.abort());
    const out = new OpenAiChunkWriter(call.model, (frame) => body.write(frame));
    let started = (): void => {};
    const firstText = new Promise<void>((resolve) => { started = resolve; });
    const running = generate(model, sequence, request, {
      promptTokens,
      signal: stop.signal,
      onText: (text) => {
        started();
        if (request.stream) out.text(text);
      },
    }).finally(() => {
      call.signal.offAbort(stopGeneration);
      model.release(sequence);
    });
    if (request.stream) out.role();
    let result: GenerationResult | undefined;
    try {
      // A stream answers at its first text; a whole answer (or one that is only tool calls) at the end.
      if (request.stream) await Promise.race([firstText, running]);
      else result = await running;
    } catch (error) {
      throwIfAborted(call.signal);
      // Before any output: what failed is this request (a tool schema no grammar can express...).
      return errorResponse(400, 'invalid_request_error', `The local model ${call.model} could not run this request: ${messageOf(error)}`);
    }
    if (result !== undefined) {
      if (result.finish === undefined) throw abortError(call.signal);
      return { status: 200, headers: { 'content-type': 'application/json' }, body: bodyOf(completionJson(call.model, result.text, result.calls, result.finish, result.usage)) };
    }
    running.then((done) => {
      if (done.finish !== undefined) {
        out.toolCalls(done.calls);
        out.finish(done.finish);
      }
      out.usage(done.usage);
      // Stopped early (client gone, timeout): the usage so far, but no [DONE]: the answer is not complete.
      if (done.finish !== undefined) out.done();
      body.end();
    }).catch((error: unknown) => body.fail(error instanceof Error ? error : new Error(String(error))));
    return { status: 200, headers: { 'content-type': 'text/event-stream' }, body };
  }

  async close(): Promise<void> {
    const loaded = await Promise.allSettled(this.models.values());
    this.models.clear();
    for (const model of loaded) if (model.status === 'fulfilled') await model.value.dispose();
  }

  /** The model file for a route's model name: a .gguf inside models_dir (sub-folders allowed). */
  private async modelPath(name: string): Promise<string | undefined> {
    const path = resolve(this.options.modelsDir, name);
    const inside = relative(this.options.modelsDir, path);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside) || !path.endsWith('.gguf')) return undefined;
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() === true ? path : undefined;
  }

  private model(path: string): Promise<LocalModel> {
    const known = this.models.get(path);
    if (known !== undefined) return known;
    const { threads, contextSize, sequences, maxQueue, gpu } = this.options;
    const model = loadRuntime(gpu, threads).then(({ library, llama }) => LocalModel.load(library, llama, path, { threads, contextSize, sequences, maxQueue }));
    this.models.set(path, model);
    // A failed load is remembered for a few seconds only: the file may be fixed or replaced, but
    // a load that fails slowly (out of memory for the context) must not be retried per request.
    model.catch(() => setTimeout(() => { if (this.models.get(path) === model) this.models.delete(path); }, failedLoadMemoryMs).unref());
    return model;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The client left (or a timeout fired) while this request waited: nothing more is wanted. */
function throwIfAborted(signal: Cancellation): void {
  if (signal.aborted) throw abortError(signal);
}

function errorResponse(status: number, type: string, message: string, param: string | null = null, code: string | null = null, headers: Record<string, string> = {}): UpstreamResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: bodyOf(JSON.stringify({ error: { message, type, param, code } })),
  };
}

function bodyOf(text: string): PushBody {
  const body = new PushBody(() => {});
  body.write(text);
  body.end();
  return body;
}
