/**
 * A fault-scripting upstream on loopback for the fault-injection suite (test/fault-injection-*).
 * It speaks OpenAI Chat Completions or Anthropic Messages exactly (frames from
 * fault-frames.ts), and answers each call with the Fault its script picks for it: a whole answer
 * (optionally with a slow first token or a late final usage), an HTTP error with a body and
 * headers, or a stream that breaks after K content events: an in-band error, a cut socket, a
 * stall, a malformed JSON line, an event over the size limit.
 *
 * After a stream fault the upstream keeps its connection open and idle (except for a cut), the
 * way a misbehaving server does, so that "the upstream connection closed" can only be Sluice's
 * doing. Every call is recorded with when its socket closed, so tests can assert it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { defaultAnswer, framesFor, type Answer, type Dialect, type DialectFrames } from './fault-frames.js';

export type { Answer, Dialect } from './fault-frames.js';

/** Where a stream fault strikes: after this many content events (0: before the first token), and `delayMs` later. */
interface After {
  after: number;
  delayMs?: number;
}

export type Fault =
  /** A complete answer. `firstTokenDelayMs`: the head and preamble at once, content only then.
   *  `finishDelayMs`: all content, then the finish and the final usage only after this long. */
  | { kind: 'answer'; firstTokenDelayMs?: number; finishDelayMs?: number }
  /** An HTTP error in the dialect's body shape, with extra headers (e.g. retry-after). */
  | { kind: 'http'; status: number; headers?: Record<string, string>; message?: string }
  /** OpenAI `data: {"error":...}`; Anthropic `event: error` (overloaded_error unless `errorType`). */
  | (After & { kind: 'in-band-error'; errorType?: string })
  /** The socket is destroyed: no terminator, no final usage. */
  | (After & { kind: 'cut' })
  /** Nothing more is sent; the connection stays open. */
  | (After & { kind: 'stall' })
  /** A complete SSE event whose data is not JSON; with `thenContinue`, the rest of the answer follows as if nothing happened. */
  | (After & { kind: 'malformed'; thenContinue?: boolean })
  /** A content event of `bytes` bytes of text (over Sluice's streaming.max_event_size). */
  | (After & { kind: 'oversized'; bytes: number });

/** One call as the upstream received and answered it. */
export interface FaultCall {
  /** 0-based, in arrival order (not reset when a test clears `calls`). */
  index: number;
  /** The upstream model named in the body (the part of the route after the provider). */
  model: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  fault: Fault;
  receivedAt: number;
  bytesWritten: number;
  /** When the fault was written (the error, malformed or oversized frame, the cut, the stall). */
  faultAt: number | undefined;
  /** When the response was completely written. */
  finishedAt: number | undefined;
  /** When the socket carrying this call closed (while the response was incomplete). */
  closedAt: number | undefined;
  /** Resolves when the socket carrying this call closes before the response was complete. */
  closed: Promise<void>;
  /** Resolves when the call holds its connection no longer: the response completed or the socket closed. */
  released: Promise<void>;
}

export type FaultScript = (call: { index: number; model: string; body: Record<string, unknown> }) => Fault;

export interface FaultUpstream {
  dialect: Dialect;
  /** The base_url Sluice is configured with: .../v1 for OpenAI, the origin for Anthropic. */
  baseUrl: string;
  calls: FaultCall[];
  /** Sockets currently open on the upstream's side. */
  openConnections(): number;
  close(): Promise<void>;
}

export interface FaultUpstreamOptions {
  answer?: Answer;
}

/** Starts a fault-scripting upstream speaking `dialect`. */
export async function startFaultUpstream(dialect: Dialect, script: FaultScript, options: FaultUpstreamOptions = {}): Promise<FaultUpstream> {
  let received = 0;
  const calls: FaultCall[] = [];
  const sockets = new Set<Socket>();
  const frames = framesFor(dialect, options.answer ?? defaultAnswer);
  const server = http.createServer({ noDelay: true }, (req, res) => {
    void readBody(req).then((body) => {
      const model = typeof body.model === 'string' ? body.model : '';
      const index = received++;
      const call = newCall(index, model, body, req, res, script({ index, model, body }));
      calls.push(call);
      return answer(call, res, frames).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    dialect,
    baseUrl: dialect === 'openai' ? `${origin}/v1` : origin,
    calls,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A base_url nothing listens on: connecting is refused. */
export async function refusedBaseUrl(dialect: Dialect): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return dialect === 'openai' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
}

/** Scripts: the same fault for every call; or `failures` first, then whole answers. */
export const always = (fault: Fault): FaultScript => () => fault;
export const thenAnswer = (...failures: Fault[]): FaultScript => ({ index }) => failures[index] ?? { kind: 'answer' };

function newCall(index: number, model: string, body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse, fault: Fault): FaultCall {
  const socket = req.socket;
  let onClose = (): void => {};
  const closed = socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', (onClose = resolve)));
  const finished = new Promise<void>((resolve) => res.once('finish', () => resolve()));
  // A kept-alive socket serves many calls: once this one is done, it must not hold on to it.
  void finished.then(() => socket.off('close', onClose));
  const call: FaultCall = {
    index, model, body, headers: req.headers, fault, receivedAt: Date.now(), bytesWritten: 0,
    faultAt: undefined, finishedAt: undefined, closedAt: undefined, closed, released: Promise.race([closed, finished]),
  };
  void closed.then(() => void (call.closedAt ??= Date.now()));
  void finished.then(() => void (call.finishedAt ??= Date.now()));
  return call;
}

/**
 * Writes `text` and waits until it is handed to the kernel (or the socket closes): a slow reader
 * holds the upstream back, and a fault that follows (a cut) never swallows what came before it.
 */
async function write(call: FaultCall, res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed || res.socket === null || res.socket.destroyed) return false;
  call.bytesWritten += Buffer.byteLength(text);
  await Promise.race([new Promise<void>((resolve) => res.write(text, () => resolve())), call.closed]);
  return !res.destroyed;
}

async function waitOrClose(call: FaultCall, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), call.closed]);
  clearTimeout(timer);
}

async function answer(call: FaultCall, res: ServerResponse, frames: DialectFrames): Promise<void> {
  const { fault } = call;
  if (fault.kind === 'http') {
    const { body, headers } = frames.httpError(fault.status, fault.message);
    res.writeHead(fault.status, { ...headers, 'content-length': String(Buffer.byteLength(body)), ...fault.headers });
    res.end(body);
    return;
  }
  const stream = call.body.stream === true;
  if (!stream) return answerUnary(call, res, frames);
  const includeUsage = (call.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const s = frames.stream(includeUsage);
  res.writeHead(200, frames.streamHeaders);
  if (!(await write(call, res, s.preamble))) return;
  if (fault.kind === 'answer' && fault.firstTokenDelayMs) await waitOrClose(call, fault.firstTokenDelayMs);
  // A malformed line the upstream carries on after is slipped in; every other fault ends the content.
  const slipIn = fault.kind === 'malformed' && fault.thenContinue === true ? fault.after : -1;
  const stopAt = fault.kind === 'answer' || slipIn >= 0 ? Infinity : fault.after;
  for (const [i, piece] of s.pieces.entries()) {
    if (i >= stopAt) break;
    if (i === slipIn) {
      call.faultAt = Date.now();
      if (!(await write(call, res, s.malformed))) return;
    }
    if (!(await write(call, res, s.content(piece, i)))) return;
  }
  if (fault.kind === 'answer' || slipIn >= 0) {
    if (fault.kind === 'answer' && fault.finishDelayMs) await waitOrClose(call, fault.finishDelayMs);
    if (await write(call, res, s.ending)) res.end();
    return;
  }
  if (fault.delayMs) await waitOrClose(call, fault.delayMs);
  await strike(call, res, fault, s);
}

/** The stream fault itself; afterwards the connection is held open and idle until the peer closes it. */
async function strike(call: FaultCall, res: ServerResponse, fault: Exclude<Fault, { kind: 'answer' | 'http' }>, s: ReturnType<DialectFrames['stream']>): Promise<void> {
  call.faultAt = Date.now();
  switch (fault.kind) {
    case 'cut':
      res.socket?.destroy();
      return;
    case 'stall':
      break;
    case 'in-band-error':
      await write(call, res, s.inBandError(fault.errorType));
      break;
    case 'malformed':
      await write(call, res, s.malformed);
      break;
    case 'oversized':
      await write(call, res, s.content('x'.repeat(fault.bytes), fault.after));
      break;
  }
  await call.closed;
}

/** A non-stream request: the whole completion (after the first-token delay), or a cut for stream faults. */
async function answerUnary(call: FaultCall, res: ServerResponse, frames: DialectFrames): Promise<void> {
  const { fault } = call;
  if (fault.kind !== 'answer') {
    call.faultAt = Date.now();
    if (fault.kind === 'stall') return void (await call.closed);
    res.socket?.destroy();
    return;
  }
  if (fault.firstTokenDelayMs) await waitOrClose(call, fault.firstTokenDelayMs);
  if (res.destroyed) return;
  const body = frames.completion();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  call.bytesWritten += Buffer.byteLength(body);
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
