/**
 * One GGUF model in-process: loaded once, one context split into `sequences` parallel sequences,
 * its chat template resolved once (resolving it per request costs ~200 ms), and a bounded queue
 * for requests beyond the free sequences.
 */
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { open } from 'node:fs/promises';
import type { Cancellation } from '../../core/cancellation.js';
import { abortError } from '../transport-errors.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');

export interface LocalModelOptions {
  contextSize: number | undefined;
  sequences: number;
  threads: number;
  /** Requests allowed to wait for a sequence; one more is refused with QueueFullError. */
  maxQueue: number;
}

/** All sequences busy and the queue full: the caller answers 429 with Retry-After. */
export class QueueFullError extends Error {}

interface Waiter {
  resolve: (sequence: LlamaContextSequence) => void;
  reject: (error: Error) => void;
  cancellation: Cancellation;
  onAbort: () => void;
}

export class LocalModel {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: Waiter[] = [];

  private constructor(
    readonly library: NodeLlamaCpp,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly chatWrapper: ChatWrapper,
    private readonly maxQueue: number,
    sequences: number,
  ) {
    this.free = Array.from({ length: sequences }, () => context.getSequence());
  }

  static async load(library: NodeLlamaCpp, llama: Llama, path: string, options: LocalModelOptions): Promise<LocalModel> {
    await checkGgufHeader(path);
    const model = await llama.loadModel({ modelPath: path });
    try {
      const context = await model.createContext({
        ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
        sequences: options.sequences,
        threads: options.threads,
      });
      const chatWrapper = library.resolveChatWrapper(model) ?? new library.GeneralChatWrapper();
      return new LocalModel(library, model, context, chatWrapper, options.maxQueue, options.sequences);
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  /** Tokens one sequence holds: prompt and answer together. */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Requests waiting for a sequence right now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A free sequence, at once or when one frees up; rejects with QueueFullError, or if cancelled while waiting. */
  acquire(cancellation: Cancellation): Promise<LlamaContextSequence> {
    if (cancellation.aborted) return Promise.reject(abortError(cancellation));
    const sequence = this.free.pop();
    if (sequence !== undefined) return Promise.resolve(sequence);
    if (this.waiting.length >= this.maxQueue) return Promise.reject(new QueueFullError('every sequence is busy and the queue is full'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve, reject, cancellation,
        onAbort: () => {
          const at = this.waiting.indexOf(waiter);
          if (at !== -1) this.waiting.splice(at, 1);
          reject(abortError(cancellation));
        },
      };
      cancellation.onAbort(waiter.onAbort);
      this.waiting.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.free.push(sequence);
      return;
    }
    next.cancellation.offAbort(next.onAbort);
    next.resolve(sequence);
  }

  async dispose(): Promise<void> {
    for (const waiter of this.waiting.splice(0)) {
      waiter.cancellation.offAbort(waiter.onAbort);
      waiter.reject(new Error('the local model was unloaded'));
    }
    await this.context.dispose();
    await this.model.dispose();
  }
}

/**
 * Refuses a file that does not start like GGUF (magic "GGUF", version 2 or 3): node-llama-cpp
 * 3.22 reads such a file "as version 3" and never settles (seen with a text file named .gguf).
 */
async function checkGgufHeader(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, 8, 0);
    const version = head.readUInt32LE(4);
    if (bytesRead < 8 || head.toString('latin1', 0, 4) !== 'GGUF' || (version !== 2 && version !== 3)) {
      throw new Error('not a GGUF model file (expected the "GGUF" magic and version 2 or 3 at its start)');
    }
  } finally {
    await file.close();
  }
}
