/**
 * `kind: local`: GGUF models run in-process by node-llama-cpp (an optional dependency, imported
 * on the first request, so Sluice installs and runs without it when no local model is used).
 * The provider answers like an OpenAI-compatible server: the request body is Chat Completions
 * JSON, the answer SSE chunks or a chat.completion object, errors OpenAI error bodies with HTTP
 * statuses. Everything past send() (commit point, retries, translation for Anthropic clients,
 * the ledger) is the same as for a remote upstream.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { Cancellation } from '../../core/cancellation.js';
import type { UpstreamTarget } from '../../protocols/codec.js';
import type { Provider, UpstreamCall, UpstreamResponse, UpstreamTimeouts } from '../provider.js';
import { LocalRequestError, readChatRequest, type LocalChatRequest } from './chat-request.js';
import { countPromptTokens, generate } from './local-generation.js';
import { LocalModel, QueueFullError } from './local-model.js';
import { completionJson, OpenAiChunkWriter } from './openai-output.js';
import { PushBody } from './push-body.js';

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
      return errorResponse(status, 'server_error', `The local model ${call.model} could not be loaded: ${(error as Error).message}`);
    }
    const promptTokens = countPromptTokens(model, request);
    if (promptTokens >= model.contextSize) {
      return errorResponse(400, 'invalid_request_error', `This model's context holds ${model.contextSize} tokens; the messages take ${promptTokens}.`, 'messages', 'context_length_exceeded');
    }
    let sequence;
    try {
      sequence = await model.acquire(call.signal);
    } catch (error) {
      // 429, not 503: the breaker then cools the route for the Retry-After second only (a 5xx
      // counts as a fault, and three in a row would shut a merely busy model out for 30 s).
      if (error instanceof QueueFullError) return errorResponse(429, 'rate_limit_exceeded', `The local model ${call.model} is busy: every sequence is in use and ${model.queued} requests are waiting.`, null, 'model_busy', { 'retry-after': '1' });
      throw error;
    }
    const stop = new Cancellation();
    const stopGeneration = (): void => stop.abort(call.signal.reason);
    call.signal.onAbort(stopGeneration);
    const running = (onText: (text: string) => void) => generate(model, sequence, request, { promptTokens, onText, signal: stop.signal })
      .finally(() => {
        call.signal.offAbort(stopGeneration);
        model.release(sequence);
      });
    if (!request.stream) {
      const result = await running(() => {});
      if (result.finish === undefined) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: bodyOf(completionJson(call.model, result.text, result.calls, result.finish, result.usage)) };
    }
    const body = new PushBody(() => stop.abort());
    const out = new OpenAiChunkWriter(call.model, (frame) => body.write(frame));
    out.role();
    running((text) => out.text(text)).then((result) => {
      if (result.finish !== undefined) {
        out.toolCalls(result.calls);
        out.finish(result.finish);
      }
      out.usage(result.usage);
      // Stopped early (client gone, timeout): the usage so far, but no [DONE]: the answer is not complete.
      if (result.finish !== undefined) out.done();
      body.end();
    }, (error: unknown) => body.fail(error instanceof Error ? error : new Error(String(error))));
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
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || !path.endsWith('.gguf')) return undefined;
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() === true ? path : undefined;
  }

  private model(path: string): Promise<LocalModel> {
    let model = this.models.get(path);
    if (model === undefined) {
      const { threads, contextSize, sequences, maxQueue, gpu } = this.options;
      model = loadRuntime(gpu, threads).then(({ library, llama }) => LocalModel.load(library, llama, path, { threads, contextSize, sequences, maxQueue }));
      this.models.set(path, model);
      // A failed load is not remembered: the file may be fixed or replaced.
      model.catch(() => this.models.delete(path));
    }
    return model;
  }
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
