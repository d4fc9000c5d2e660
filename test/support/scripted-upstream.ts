import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the scripted upstream received it. */
export interface UpstreamRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Resolves when the connection carrying this request closes (Sluice aborted it, or it ended). */
  closed: Promise<void>;
  /** Resolves when the response was fully written by the script and the connection stays usable. */
  responseFinished: () => boolean;
}

export type UpstreamScript = (request: UpstreamRequest, res: ServerResponse) => Promise<void> | void;

export interface ScriptedUpstream {
  /** Base URL, e.g. http://127.0.0.1:1234/v1 */
  baseUrl: string;
  requests: UpstreamRequest[];
  /** Replace the script for the next requests. */
  setScript(script: UpstreamScript): void;
  close(): Promise<void>;
}

/**
 * An upstream scripted by the test, on loopback. Each request is recorded (with its parsed JSON
 * body) and answered by the current script, which writes whatever bytes it wants, when it wants.
 */
export async function startScriptedUpstream(script: UpstreamScript): Promise<ScriptedUpstream> {
  let current = script;
  const requests: UpstreamRequest[] = [];
  const server = http.createServer({ noDelay: true }, (req, res) => {
    void readJson(req).then(async (body) => {
      const closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()));
      const request: UpstreamRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        closed,
        responseFinished: () => res.writableFinished,
      };
      requests.push(request);
      try {
        await current(request, res);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    setScript: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  try {
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    return { unparsable: text };
  }
}

export const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** Writes data frames (objects are JSON-encoded), resolving when each is handed to the socket. */
export async function writeFrames(res: ServerResponse, frames: (object | string)[], gapMs = 0): Promise<void> {
  for (const frame of frames) {
    const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
    await new Promise<void>((resolve) => res.write(`data: ${data}\n\n`, () => resolve()));
    if (gapMs > 0) await sleep(gapMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
