import type { BodyVerdict, UpstreamBody } from '../providers/provider.js';

/**
 * Reads a body chunk by chunk: `onChunk` runs synchronously as each chunk arrives. When it returns
 * a promise (the client is slow), reading pauses until the promise settles, so the upstream is held
 * back instead of buffered. Resolves at the body's end, or as soon as `onChunk` returns 'stop' (the
 * rest is drained in the background so the connection can be reused); rejects when `onChunk`
 * throws or the body fails (a cut connection). The body is destroyed on every failure.
 */
export function readChunks(body: UpstreamBody, onChunk: (bytes: Buffer) => Promise<void> | 'stop' | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      body.destroy();
      reject(error);
    };
    body.read({
      onData(bytes): BodyVerdict {
        if (settled) return 'stop';
        let wait: Promise<void> | 'stop' | undefined;
        try {
          wait = onChunk(bytes);
        } catch (error) {
          fail(error);
          return 'stop';
        }
        if (wait === undefined) return undefined;
        if (wait === 'stop') {
          settled = true;
          resolve();
          return 'stop';
        }
        wait.then(() => {
          if (!settled) body.resume();
        }, fail);
        return 'pause';
      },
      onEnd() {
        if (settled) return;
        settled = true;
        resolve();
      },
      onError: fail,
    });
  });
}

/**
 * A whole (small) body as text, reading at most `limit` bytes: past that, reading stops, the body
 * is destroyed (its connection is not reused) and `truncated` says so.
 */
export function readText(body: UpstreamBody, limit: number): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    body.read({
      onData(bytes): BodyVerdict {
        if (settled) return 'stop';
        parts.push(Buffer.from(bytes)); // the reader may reuse its buffer
        size += bytes.length;
        if (size <= limit) return undefined;
        settled = true;
        body.destroy();
        resolve({ text: Buffer.concat(parts).subarray(0, limit).toString('utf8'), truncated: true });
        return 'stop';
      },
      onEnd() {
        if (settled) return;
        settled = true;
        resolve({ text: Buffer.concat(parts, size).toString('utf8'), truncated: false });
      },
      onError(error) {
        if (settled) return;
        settled = true;
        reject(error);
      },
    });
  });
}
