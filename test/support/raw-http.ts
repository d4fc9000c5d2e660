/**
 * A raw HTTP client for tests where bytes or timing matter: the response body is collected as
 * text, piece by piece with arrival times, and a test can wait for some text to show up.
 */
import http from 'node:http';
import { clientKey } from './sluice.js';

/** A response being received by rawHttpRequest(); the fields fill in as the body arrives. */
export interface RawHttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  startedAt: number;
  headersAt: number;
  /** The body received so far (utf8). */
  text: string;
  /** Every piece of the body as it arrived, with its arrival time. */
  pieces: { at: number; text: string }[];
  /** Resolves when the response ended or the connection closed. */
  done: Promise<void>;
  endedAt: number | undefined;
  /** The body ended properly (not cut). Set when the response ends. */
  complete: boolean;
  /** Resolves once predicate(text) holds; rejects after ms (default 5000) or when the response ends first. */
  waitFor(predicate: (text: string) => boolean, ms?: number): Promise<void>;
  destroy(): void;
}

export interface RawHttpRequestOptions {
  /** Default GET without a body, POST with one. */
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; any body gets `content-type: application/json`. */
  body?: object | string | Buffer;
  /** The request is destroyed after this long (default 15 s). */
  timeoutMs?: number;
  /** Send `authorization: Bearer <clientKey>` (default true). */
  auth?: boolean;
  /** Passed to http.request; default Node's global agent. `false` for a fresh connection. */
  agent?: http.Agent | false;
}

/** A raw HTTP request; resolves when the response head arrives. The body is collected with arrival times. */
export function rawHttpRequest(url: string, options: RawHttpRequestOptions = {}): Promise<RawHttpResponse> {
  const startedAt = Date.now();
  const body = options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.auth === false ? {} : { authorization: `Bearer ${clientKey}` }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
    });
    const hardTimeout = setTimeout(() => req.destroy(new Error('raw request timed out')), options.timeoutMs ?? 15_000);
    req.on('error', (error) => {
      clearTimeout(hardTimeout);
      reject(error);
    });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      const waiters: { predicate: (text: string) => boolean; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
      let finish!: () => void;
      const out: RawHttpResponse = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        startedAt,
        headersAt: Date.now(),
        text: '',
        pieces: [],
        done: new Promise<void>((r) => (finish = r)),
        endedAt: undefined,
        complete: false,
        waitFor: (predicate, ms = 5000) =>
          new Promise<void>((resolveWait, rejectWait) => {
            if (predicate(out.text)) return resolveWait();
            if (out.endedAt !== undefined) return rejectWait(new Error(`response ended before the awaited text; got: ${out.text.slice(-500)}`));
            const timer = setTimeout(() => {
              waiters.splice(waiters.findIndex((w) => w.timer === timer), 1);
              rejectWait(new Error(`timed out waiting for text; got: ${JSON.stringify(out.text.slice(-500))}`));
            }, ms);
            waiters.push({ predicate, resolve: resolveWait, reject: rejectWait, timer });
          }),
        destroy: () => {
          req.destroy();
          res.destroy();
        },
      };
      res.on('data', (s: string) => {
        out.text += s;
        out.pieces.push({ at: Date.now(), text: s });
        for (const w of [...waiters]) {
          if (w.predicate(out.text)) {
            clearTimeout(w.timer);
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
      const onEnd = (): void => {
        if (out.endedAt !== undefined) return;
        out.endedAt = Date.now();
        out.complete = res.complete;
        clearTimeout(hardTimeout);
        for (const w of waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`response ended before the awaited text; got: ${out.text.slice(-500)}`));
        }
        finish();
      };
      res.on('end', onEnd);
      res.on('close', onEnd);
      res.on('error', () => onEnd());
      resolve(out);
    });
    if (body !== undefined) req.end(body);
    else req.end();
  });
}
