import { randomBytes } from 'node:crypto';
import { isObject } from '../../core/json.js';

/**
 * Gives the tool calls of one choice dense indexes from 0 in order of appearance. Clients tell
 * parallel calls apart only by `index`, and the official SDK's stream helper breaks on gaps:
 * Claude behind OpenAI-compatible endpoints starts at 1, some servers skip, and Mistral sends no
 * index at all (its calls are then silently dropped by the SDK). The first fragment of each call
 * also gets the `type` and `id` the SDK requires when an upstream leaves them out.
 */
export class ToolCallIndexer {
  private readonly byUpstreamIndex = new Map<number, number>();
  private readonly byId = new Map<string, number>();
  private next = 0;
  private last = -1;

  /** Rewrites the fragments in place; returns true when anything changed. */
  normalize(calls: unknown[]): boolean {
    let changed = false;
    for (const call of calls) {
      if (!isObject(call)) continue;
      const upstreamIndex = typeof call.index === 'number' ? call.index : undefined;
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
      let dense = this.known(upstreamIndex, id);
      if (dense === undefined) {
        dense = this.next++;
        if (upstreamIndex !== undefined) this.byUpstreamIndex.set(upstreamIndex, dense);
        if (id !== undefined) this.byId.set(id, dense);
        if (call.type === undefined) {
          call.type = 'function';
          changed = true;
        }
        if (id === undefined) {
          call.id = `call_${randomBytes(12).toString('hex')}`;
          changed = true;
        }
      }
      this.last = dense;
      if (call.index !== dense) {
        call.index = dense;
        changed = true;
      }
    }
    return changed;
  }

  private known(upstreamIndex: number | undefined, id: string | undefined): number | undefined {
    if (upstreamIndex !== undefined) return this.byUpstreamIndex.get(upstreamIndex);
    if (id !== undefined) return this.byId.get(id);
    // Neither index nor id: a continuation of the call in progress (or the first call).
    return this.last >= 0 ? this.last : undefined;
  }
}
