import type { BodyHandlers, UpstreamBody } from '../provider.js';

/**
 * An UpstreamBody fed by an in-process producer (a local model) instead of a socket. Bytes written
 * before the reader starts, or while it has paused, are queued; a local model produces a few
 * hundred bytes per token, so the queue stays small even when a client reads slowly. `onStop`
 * runs once when the reader no longer wants the body (stop verdict or destroy): the producer
 * should stop generating.
 */
export class PushBody implements UpstreamBody {
  private handlers: BodyHandlers | undefined;
  private readonly queue: Buffer[] = [];
  private paused = false;
  private ended = false;
  private failure: Error | undefined;
  private done = false;

  constructor(private readonly onStop: () => void) {}

  /** False once the reader has gone: nothing more is wanted. */
  get wanted(): boolean {
    return !this.done;
  }

  write(text: string): void {
    if (this.done || this.ended) return;
    this.queue.push(Buffer.from(text, 'utf8'));
    this.flush();
  }

  end(): void {
    if (this.done || this.ended) return;
    this.ended = true;
    this.flush();
  }

  /** Fails the body at once, queued bytes dropped: a reader that has paused still hears of it. */
  fail(error: Error): void {
    if (this.done || this.ended) return;
    this.failure = error;
    this.ended = true;
    this.queue.length = 0;
    this.paused = false;
    this.flush();
  }

  read(handlers: BodyHandlers): void {
    this.handlers = handlers;
    // Delivery starts on the next tick: the caller finishes wiring up before the first bytes.
    queueMicrotask(() => this.flush());
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  destroy(): void {
    this.stop();
  }

  private flush(): void {
    const handlers = this.handlers;
    if (handlers === undefined || this.done) return;
    while (!this.paused && this.queue.length > 0) {
      const verdict = handlers.onData(this.queue.shift()!);
      if (verdict === 'stop') { this.stop(); return; }
      if (this.done) return; // destroyed from within onData
      if (verdict === 'pause') this.paused = true;
    }
    if (this.paused || this.queue.length > 0 || !this.ended) return;
    this.done = true;
    if (this.failure === undefined) handlers.onEnd();
    else handlers.onError(this.failure);
  }

  private stop(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.onStop();
  }
}
