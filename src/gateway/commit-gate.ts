import type { ResponseSink } from './response-sink.js';

export interface CommitGateOptions {
  sink: ResponseSink;
  /** Frames held before the commit point; past this the stream is committed anyway. */
  maxHeldBytes: number;
  /** Called once, at the commit point (first token). */
  onCommit: () => void;
  /** The client protocol's keep-alive frame, for silences after the commit. */
  keepAliveFrame: string;
}

/**
 * The commit point of one attempt. Frames are held until the stream carries content, so that a
 * failure before it can still move on to another route unseen; then the stream is committed (the
 * head goes out if it has not yet) and frames flow to the client as they come, held ones first.
 * An upstream that sends a lot without any content is committed when the held frames outgrow
 * `maxHeldBytes`, so holding never costs unbounded memory.
 */
export class CommitGate {
  committed = false;
  private held = '';

  constructor(private readonly options: CommitGateOptions) {}

  /**
   * Offers the client frames decoded from one upstream read. Returns false when the client is
   * slow: read no more from the upstream until `sink.drained()`.
   */
  offer(frames: string, sawContent: boolean): boolean {
    if (!this.committed) {
      // `held.length` counts UTF-16 units, not bytes: close enough for a memory bound.
      if (!sawContent && this.held.length + frames.length < this.options.maxHeldBytes) {
        this.held += frames;
        return true;
      }
      this.commit();
      frames = this.held + frames;
      this.held = '';
    }
    return frames === '' || this.options.sink.write(frames);
  }

  /** Ends a successful stream: whatever is held, these frames, the closing frames, then close. */
  finish(frames: string, closing: string): void {
    this.commit();
    this.options.sink.write(this.held + frames + closing);
    this.held = '';
    this.options.sink.end();
  }

  private commit(): void {
    if (this.committed) return;
    this.committed = true;
    this.options.onCommit();
    if (!this.options.sink.streaming) this.options.sink.startStream(this.options.keepAliveFrame);
  }
}
