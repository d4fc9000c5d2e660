import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Http1Pool, type Http1Response } from './http1-pool.js';
import { Cancellation } from '../core/cancellation.js';

interface Served { port: number; connections: () => number; sockets: net.Socket[] }

async function serve(t: TestContext, handler: http.RequestListener, tweak?: (server: http.Server) => void): Promise<Served> {
  const server = http.createServer(handler);
  tweak?.(server);
  const sockets: net.Socket[] = [];
  server.on('connection', (socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { server.closeAllConnections(); server.close(); });
  return { port: (server.address() as net.AddressInfo).port, connections: () => sockets.length, sockets };
}

/** A raw TCP server for misbehaviour node:http will not produce; `onData` gets each socket's bytes. */
async function serveRaw(t: TestContext, onData: (socket: net.Socket, index: number, data: string) => void): Promise<Served> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    const index = sockets.push(socket) - 1;
    socket.on('data', (data) => onData(socket, index, data.toString('latin1')));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  return { port: (server.address() as net.AddressInfo).port, connections: () => sockets.length, sockets };
}

function pool(t: TestContext, port: number, maxConnections = 4): Http1Pool {
  const p = new Http1Pool({ host: '127.0.0.1', port, maxConnections, connectTimeoutMs: 1000 });
  t.after(() => p.close());
  return p;
}

function get(p: Http1Pool, path = '/', signal = new Cancellation()): Promise<Http1Response> {
  return p.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: '{"q":1}', signal });
}

function readAll(response: Http1Response): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    response.read({
      onData: (bytes) => { parts.push(Buffer.from(bytes)); },
      onEnd: () => resolve(Buffer.concat(parts).toString()),
      onError: reject,
    });
  });
}

const closedWithin = (socket: net.Socket, ms: number): Promise<void> => new Promise((resolve, reject) => {
  if (socket.destroyed) { resolve(); return; }
  const timer = setTimeout(() => reject(new Error('server socket still open')), ms);
  socket.once('close', () => { clearTimeout(timer); resolve(); });
});

test('streams a chunked body in order, with pause/resume backpressure reaching the server', async (t) => {
  const total = 1000;
  const piece = (i: number): string => `${String(i).padStart(6, '0')}:${'x'.repeat(16 * 1024 - 8)}\n`;
  let blockedWrites = 0;
  let written = 0;
  const server = await serve(t, async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < total; i++) {
      written = i + 1;
      if (!res.write(piece(i))) { blockedWrites++; await once(res, 'drain'); }
    }
    res.end();
  });
  const p = pool(t, server.port);
  const response = await get(p);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'text/event-stream');
  const received: Buffer[] = [];
  let pausedOnce = false;
  let writtenWhilePaused = 0;
  const done = new Promise<void>((resolve, reject) => {
    response.read({
      onData: (bytes) => {
        received.push(Buffer.from(bytes));
        if (!pausedOnce) {
          pausedOnce = true;
          setTimeout(() => { writtenWhilePaused = written; response.resume(); }, 300);
          return 'pause';
        }
      },
      onEnd: resolve,
      onError: reject,
    });
  });
  await done;
  const body = Buffer.concat(received).toString();
  assert.equal(body.length, total * 16 * 1024);
  for (let i = 0; i < total; i += 97) assert.equal(body.slice(i * 16 * 1024, i * 16 * 1024 + 6), String(i).padStart(6, '0'));
  assert.equal(body, Array.from({ length: total }, (_, i) => piece(i)).join(''));
  assert.ok(blockedWrites > 0, 'the server write blocked');
  assert.ok(writtenWhilePaused < total / 2, `the server was held back while paused (wrote ${writtenWhilePaused})`);
});

test('content-length JSON body arriving with the head is delivered synchronously by read()', async (t) => {
  const server = await serve(t, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      const json = JSON.stringify({ echo: JSON.parse(body) as unknown, host: req.headers.host, ct: req.headers['content-type'] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
  });
  const p = pool(t, server.port);
  const response = await get(p);
  assert.equal(response.headers['content-type'], 'application/json');
  let text = '';
  let ended = false;
  response.read({ onData: (b) => { text += b.toString(); }, onEnd: () => { ended = true; }, onError: (e) => { throw e; } });
  assert.ok(ended, 'body and end delivered synchronously');
  assert.deepEqual(JSON.parse(text), { echo: { q: 1 }, host: `127.0.0.1:${server.port}`, ct: 'application/json' });
});

test('keep-alive: sequential requests reuse one socket', async (t) => {
  const server = await serve(t, (req, res) => { res.end(`hello ${req.url}`); });
  const p = pool(t, server.port);
  for (let i = 0; i < 5; i++) assert.equal(await readAll(await get(p, `/${i}`)), `hello /${i}`);
  assert.equal(server.connections(), 1);
});

test('maxConnections is respected and queued requests complete in order', async (t) => {
  let active = 0;
  let peak = 0;
  const server = await serve(t, (req, res) => {
    active++;
    peak = Math.max(peak, active);
    setTimeout(() => { active--; res.end(req.url); }, 30);
  });
  const p = pool(t, server.port, 2);
  const bodies = await Promise.all(Array.from({ length: 7 }, async (_, i) => readAll(await get(p, `/${i}`))));
  assert.deepEqual(bodies, Array.from({ length: 7 }, (_, i) => `/${i}`));
  assert.equal(peak, 2);
  assert.equal(server.connections(), 2);
});

test('abort before the head rejects with AbortError and closes the socket', async (t) => {
  const server = await serve(t, () => { /* never answers */ });
  const p = pool(t, server.port, 1);
  const controller = new Cancellation();
  const pending = get(p, '/', controller);
  while (server.connections() === 0) await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  await closedWithin(server.sockets[0]!, 1000);
  // The slot was freed: the pool still works with maxConnections 1.
  const already = new Cancellation();
  already.abort();
  await assert.rejects(get(p, '/', already), { name: 'AbortError' });
});

test('abort while reading the body reports AbortError and closes the socket', async (t) => {
  const server = await serve(t, (req, res) => { res.writeHead(200); res.write('first'); });
  const p = pool(t, server.port);
  const controller = new Cancellation();
  const response = await get(p, '/', controller);
  const error = await new Promise<Error>((resolve) => {
    response.read({
      onData: () => { setTimeout(() => controller.abort(), 10); },
      onEnd: () => resolve(new Error('unexpected end')),
      onError: resolve,
    });
  });
  assert.equal(error.name, 'AbortError');
  await closedWithin(server.sockets[0]!, 1000);
});

test('connect refused rejects with ECONNREFUSED and does not leak slots', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const p = new Http1Pool({ host: '127.0.0.1', port, maxConnections: 1, connectTimeoutMs: 1000 });
  for (let i = 0; i < 3; i++) await assert.rejects(get(p), { code: 'ECONNREFUSED' });
  p.close();
});

test("'stop' drains the rest in the background and the socket is reused", async (t) => {
  const server = await serve(t, (req, res) => {
    if (req.url === '/long') {
      res.write('a'.repeat(1000));
      setTimeout(() => { res.write('b'.repeat(1000)); res.end(); }, 100);
    } else {
      res.end('short');
    }
  });
  const p = pool(t, server.port, 1);
  const response = await get(p, '/long');
  let calls = 0;
  response.read({ onData: () => { calls++; return 'stop'; }, onEnd: () => { calls += 100; }, onError: () => { calls += 1000; } });
  assert.equal(await readAll(await get(p, '/short')), 'short');
  assert.equal(calls, 1, 'no callbacks after stop');
  assert.equal(server.connections(), 1);
});

test('a connection: close response is not reused', async (t) => {
  const server = await serve(t, (req, res) => { res.setHeader('connection', 'close'); res.end('bye'); });
  const p = pool(t, server.port);
  assert.equal(await readAll(await get(p)), 'bye');
  assert.equal(await readAll(await get(p)), 'bye');
  assert.equal(server.connections(), 2);
});

const okResponse = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

test('keep-alive race: a reset on a reused socket before any byte is retried on a new one', async (t) => {
  let requests = 0;
  let resets = 0;
  const server = await serveRaw(t, (socket, index) => {
    requests++;
    // The first socket answers once, then resets as if its idle timeout had just fired.
    if (index === 0 && requests > 1) { resets++; socket.resetAndDestroy(); } else socket.write(okResponse);
  });
  const p = pool(t, server.port, 1);
  assert.equal(await readAll(await get(p)), 'ok');
  assert.equal(await readAll(await get(p)), 'ok');
  assert.equal(resets, 1, 'the second request was sent on the reused socket');
  assert.equal(server.connections(), 2);
});

test('keep-alive race: a clean close before any byte on a reused socket is retried too', async (t) => {
  let requests = 0;
  let resets = 0;
  const server = await serveRaw(t, (socket, index) => {
    requests++;
    if (index === 0 && requests > 1) { resets++; socket.end(); } else socket.write(okResponse);
  });
  const p = pool(t, server.port, 1);
  assert.equal(await readAll(await get(p)), 'ok');
  assert.equal(await readAll(await get(p)), 'ok');
  assert.equal(resets, 1, 'the second request was sent on the reused socket');
  assert.equal(server.connections(), 2);
});

test('a reset on a fresh connection is not retried', async (t) => {
  const server = await serveRaw(t, (socket) => socket.resetAndDestroy());
  const p = pool(t, server.port, 1);
  await assert.rejects(get(p), { code: 'ECONNRESET' });
  assert.equal(server.connections(), 1);
});

test('an idle socket closed by the server is never handed out', async (t) => {
  let dataAfterClose = false;
  const server = await serveRaw(t, (socket) => {
    if (socket.writableEnded) { dataAfterClose = true; return; }
    socket.write(okResponse);
    setTimeout(() => socket.end(), 20);
  });
  const p = pool(t, server.port, 1);
  assert.equal(await readAll(await get(p)), 'ok');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await readAll(await get(p)), 'ok');
  assert.equal(dataAfterClose, false);
  assert.equal(server.connections(), 2);
});

test('a malformed response fails the request and frees the slot', async (t) => {
  const server = await serveRaw(t, (socket, index) => {
    socket.write(index === 0 ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n' : okResponse);
  });
  const p = pool(t, server.port, 1);
  const response = await get(p);
  const error = await readAll(response).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof Error && /chunk size/.test(error.message));
  assert.equal(await readAll(await get(p)), 'ok');
});

test('the connection is cut mid-body: onError', async (t) => {
  const server = await serveRaw(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc');
    setTimeout(() => socket.destroy(), 20);
  });
  const p = pool(t, server.port);
  await assert.rejects(readAll(await get(p)), /closed before|hang up/);
});

test('a close-delimited body ends at EOF', async (t) => {
  const server = await serveRaw(t, (socket) => { socket.end('HTTP/1.1 200 OK\r\n\r\nuntil close'); });
  const p = pool(t, server.port, 1);
  assert.equal(await readAll(await get(p)), 'until close');
  assert.equal(await readAll(await get(p)), 'until close');
});

test('a connect slower than connectTimeoutMs rejects with ETIMEDOUT', async (t) => {
  const server = await serve(t, (req, res) => res.end('late'));
  const p = new Http1Pool({ host: '127.0.0.1', port: server.port, maxConnections: 1, connectTimeoutMs: 1 });
  t.after(() => p.close());
  const pending = get(p);
  // Hold the event loop so the timer phase runs before the poll phase can see the connect complete.
  const until = Date.now() + 20;
  while (Date.now() < until) { /* spin */ }
  await assert.rejects(pending, { code: 'ETIMEDOUT' });
});

test('close() rejects queued requests and destroys sockets', async (t) => {
  const server = await serve(t, () => { /* never answers */ });
  const p = new Http1Pool({ host: '127.0.0.1', port: server.port, maxConnections: 1, connectTimeoutMs: 1000 });
  const first = get(p);
  const queued = get(p);
  while (server.connections() === 0) await new Promise((r) => setTimeout(r, 5));
  p.close();
  await assert.rejects(first, { code: 'ERR_POOL_CLOSED' });
  await assert.rejects(queued, { code: 'ERR_POOL_CLOSED' });
  await closedWithin(server.sockets[0]!, 1000);
});

test('pausing on every view of a buffer that held head and body keeps the held views intact', async (t) => {
  const chunks = Array.from({ length: 20 }, (_, i) => `data: {"i":${i}}\n\n`);
  const wire = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
    chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';
  const server = await serveRaw(t, (socket) => socket.write(wire));
  const p = pool(t, server.port, 1);
  for (let round = 0; round < 2; round++) {
    const response = await get(p);
    await new Promise((r) => setTimeout(r, 20)); // the whole response sits in the read buffer
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      response.read({
        onData: (bytes) => { seen.push(bytes.toString()); setImmediate(() => response.resume()); return 'pause'; },
        onEnd: resolve,
        onError: reject,
      });
    });
    assert.deepEqual(seen, chunks);
  }
  assert.equal(server.connections(), 1);
});

test('connectTimeoutMs 0 means no connect limit, not an immediate failure', async (t) => {
  const served = await serveRaw(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  const p = new Http1Pool({ host: '127.0.0.1', port: served.port, maxConnections: 1, connectTimeoutMs: 0 });
  t.after(() => p.close());
  assert.equal(await readAll(await get(p)), 'ok');
});

test('views held by a paused response stay intact while other sockets read (one read buffer serves every socket)', async (t) => {
  const chunks = Array.from({ length: 20 }, (_, i) => `data: {"i":${i}}\n\n`);
  const chunked = (parts: string[]): string => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
    parts.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';
  const held = await serveRaw(t, (socket) => socket.write(chunked(chunks)));
  const noise = Array.from({ length: 64 }, (_, i) => `${String(i).padStart(4, '0')}${'z'.repeat(2000)}`);
  const other = await serveRaw(t, (socket) => socket.write(chunked(noise)));
  const p = pool(t, held.port, 1);
  const q = pool(t, other.port, 1);
  const response = await get(p);
  await new Promise((r) => setTimeout(r, 20)); // the whole response has been read and queued
  const seen: string[] = [];
  let ended = false;
  const done = new Promise<void>((resolve, reject) => {
    response.read({
      onData: (bytes) => { seen.push(bytes.toString()); return 'pause'; },
      onEnd: () => { ended = true; resolve(); },
      onError: reject,
    });
  });
  // Another socket reads ~128 KB meanwhile: with a shared buffer, any view still pointing into it would now hold 'z's.
  assert.equal(await readAll(await get(q)), noise.join(''));
  for (let i = 0; i <= chunks.length && !ended; i++) {
    response.resume();
    await new Promise((r) => setImmediate(r));
  }
  await done;
  assert.deepEqual(seen, chunks);
});
