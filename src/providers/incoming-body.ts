import type { IncomingMessage } from 'node:http';
import type { BodyHandlers, UpstreamBody } from './provider.js';

/** How long an upstream may take to finish a body nobody needs any more before it is cut. */
const drainGraceMs = 5_000;

/** An UpstreamBody over a Node http client response. */
export class IncomingBody implements UpstreamBody {
  constructor(private readonly response: IncomingMessage) {}

  read(handlers: BodyHandlers): void {
    const response = this.response;
    let settled = false;
    const detach = (): void => {
      settled = true;
      response.off('data', onData);
      response.off('end', onEnd);
      response.off('error', onError);
      response.off('close', onClose);
    };
    const onData = (bytes: Buffer): void => {
      const verdict = handlers.onData(bytes);
      if (verdict === 'pause') response.pause();
      else if (verdict === 'stop') {
        detach();
        drainInBackground(response);
      }
    };
    const onEnd = (): void => {
      detach();
      handlers.onEnd();
    };
    const onError = (error: Error): void => {
      if (settled) return;
      detach();
      handlers.onError(error);
    };
    const onClose = (): void => onError(Object.assign(new Error('the upstream closed the connection before the end of the response'), { code: 'ECONNRESET' }));
    response.on('data', onData);
    response.once('end', onEnd);
    response.once('error', onError);
    response.once('close', onClose);
  }

  resume(): void {
    this.response.resume();
  }

  destroy(error?: Error): void {
    this.response.destroy(error);
  }
}

/** Reads what is left of a body without keeping it, so the pooled connection can be reused. */
function drainInBackground(response: IncomingMessage): void {
  const timer = setTimeout(() => response.destroy(), drainGraceMs);
  const done = (): void => clearTimeout(timer);
  response.once('end', done);
  response.once('close', done);
  response.on('data', () => {});
  response.resume();
}
