import type { Provider } from '../../providers/provider.js';
import type { AttemptPlan, Exchange } from '../exchange.js';
import { openAiDialect } from '../openai-dialect.js';
import type { ResponseSink } from '../response-sink.js';
import type { Route } from '../route-table.js';
import type { Clock } from '../routing.js';
import { Cancellation } from '../../core/cancellation.js';

/**
 * A clock for unit tests of retries and cooldowns: sleeping advances time at once (and records
 * the wait), so backoffs and cooldowns are checked exactly, without waiting for them.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  /** Called when a sleep starts (e.g. to disconnect the client right then). */
  onSleep: ((ms: number) => void) | undefined;

  constructor(public time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  async sleep(ms: number, signal: Cancellation): Promise<void> {
    this.sleeps.push(ms);
    this.onSleep?.(ms);
    if (!signal.aborted) this.time += ms;
  }
}

/** [0, 1) values in turn, from a fixed list (then the last one again). */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0;
}

/** A response sink in memory: what the client would have received. */
export class MemorySink implements ResponseSink {
  readonly controller = new Cancellation();
  streaming = false;
  status: number | undefined;
  body = '';
  headers: Record<string, string> = {};
  ended = false;

  get signal(): Cancellation {
    return this.controller;
  }

  sendJson(status: number, body: string, headers: Record<string, string> = {}): void {
    this.status = status;
    this.body = body;
    this.headers = headers;
    this.ended = true;
  }

  startStream(): void {
    this.streaming = true;
    this.status = 200;
  }

  write(frames: string): boolean {
    this.body += frames;
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  end(): void {
    this.ended = true;
  }
}

/** A route whose provider is never called: the loop's unit tests stand in for the attempt. */
export function fakeRoute(label: string, options: { weight?: number; tpm?: number } = {}): Route {
  const provider = { name: label.split('/')[0] ?? label } as unknown as Provider;
  return {
    provider,
    upstreamModel: label.split('/')[1] ?? label,
    label,
    weight: options.weight ?? 1,
    quota: { rpm: undefined, tpm: options.tpm },
    timeouts: { connectMs: 0, firstTokenMs: 0, idleMs: 0, totalMs: 0 },
  };
}

/** A plan for a scripted attempt: the loop only hands it on, nothing reads it. */
const unreadPlan: AttemptPlan = {
  body: '{}',
  translator: () => {
    throw new Error('not used');
  },
  unary: () => {
    throw new Error('not used');
  },
};

/** An OpenAI-protocol exchange with a fixed prompt estimate; `plan` may refuse some routes. */
export function fakeExchange(promptTokens = 10, maxTokens = 0, plan: (route: Route) => Promise<AttemptPlan> = async () => unreadPlan): Exchange {
  return {
    protocol: 'openai-chat',
    model: 'm',
    stream: false,
    dialect: openAiDialect,
    keepAliveFrame: ': keep-alive\n\n',
    plan,
    estimatePromptTokens: async () => promptTokens,
    maxOutputTokens: (fallback) => (maxTokens > 0 ? maxTokens : fallback),
  };
}
