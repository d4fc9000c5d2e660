import { isObject } from '../../core/json.js';
import { newToolCallId } from './tool-call-id.js';

/**
 * Gives the tool calls of one choice dense indexes from 0 in order of appearance. Clients tell
 * parallel calls apart only by `index`, and the official SDK's stream helper breaks on gaps:
 * Claude behind OpenAI-compatible endpoints starts at 1, some servers skip, Mistral sends no
 * index at all (its calls are then silently dropped by the SDK), and Ollama and SGLang send
 * index 0 for every call (ollama/ollama#15457), telling calls apart only by `id`. The first
 * fragment of each call also gets the `type` and `id` the SDK requires when an upstream leaves
 * them out.
 */
export class ToolCallIndexer {
  private readonly byUpstreamIndex = new Map<number, number>();
  private readonly byId = new Map<string, number>();
  /** The id each dense index started with, to notice a new call reusing an upstream index. */
  private readonly idOf: (string | undefined)[] = [];
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
        dense = this.idOf.length;
        this.idOf.push(id);
        if (upstreamIndex !== undefined) this.byUpstreamIndex.set(upstreamIndex, dense);
        if (id !== undefined) this.byId.set(id, dense);
        if (call.type === undefined) {
          call.type = 'function';
          changed = true;
        }
        if (id === undefined) {
          call.id = newToolCallId();
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
    if (id !== undefined) {
      const byId = this.byId.get(id);
      if (byId !== undefined) return byId;
    }
    if (upstreamIndex !== undefined) {
      const dense = this.byUpstreamIndex.get(upstreamIndex);
      // A different id under a known index is a new call, not a continuation.
      if (dense !== undefined && (id === undefined || this.idOf[dense] === undefined)) return dense;
      return undefined;
    }
    if (id !== undefined) return undefined;
    // Neither index nor id: a continuation of the call in progress (or the first call).
    return this.last >= 0 ? this.last : undefined;
  }
}
