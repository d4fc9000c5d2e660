import type { Readable } from 'node:stream';

/**
 * Reads a body with 'data' events: `onChunk` runs synchronously as each chunk arrives (no promise
 * or microtask per chunk, unlike `for await`). When it returns a promise (the client is slow),
 * reading pauses until the promise settles, so the upstream is held back instead of buffered.
 * Resolves at the body's end, or as soon as `onChunk` returns 'stop' (the rest of the body is then
 * drained in the background so the connection can be reused); rejects when `onChunk` throws, on a
 * stream error, or when the body closes before its end (a cut connection). The body is destroyed
 * on every failure.
 */
export function readChunks(body: Readable, onChunk: (bytes: Buffer) => Promise<void> | 'stop' | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', settle);
      body.off('close', onClose);
      if (error === undefined) resolve();
      else {
        body.destroy();
        reject(error);
      }
    };
    const onData = (bytes: Buffer): void => {
      let wait: Promise<void> | 'stop' | undefined;
      try {
        wait = onChunk(bytes);
      } catch (error) {
        settle(error);
        return;
      }
      if (wait === undefined) return;
      if (wait === 'stop') {
        settle();
        drainInBackground(body);
        return;
      }
      body.pause();
      wait.then(
        () => {
          if (!settled) body.resume();
        },
        (error: unknown) => settle(error),
      );
    };
    const onEnd = (): void => settle();
    const onClose = (): void => settle(Object.assign(new Error('the upstream closed the connection before the end of the response'), { code: 'ECONNRESET' }));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', settle);
    body.once('close', onClose);
  });
}

/** How long an upstream may take to finish a body nobody needs any more before it is cut. */
const drainGraceMs = 5_000;

/** Reads what is left of a body without keeping it, so the pooled connection can be reused. */
function drainInBackground(body: Readable): void {
  const timer = setTimeout(() => body.destroy(), drainGraceMs);
  const done = (): void => clearTimeout(timer);
  body.once('end', done);
  body.once('close', done);
  body.on('data', () => {});
  body.resume();
}

/**
 * A whole (small) body as text, reading at most `limit` bytes: past that, reading stops, the body
 * is destroyed (its connection is not reused) and `truncated` says so.
 */
export async function readText(body: Readable, limit: number): Promise<{ text: string; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    parts.push(bytes);
    size += bytes.length;
    if (size > limit) return { text: Buffer.concat(parts).subarray(0, limit).toString('utf8'), truncated: true };
  }
  return { text: Buffer.concat(parts, size).toString('utf8'), truncated: false };
}
