import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { SluiceConfig } from '../config/schema.js';
import { Gateway } from '../gateway/gateway.js';
import type { RequestMeter } from '../gateway/request-record.js';
import type { Logger } from '../observability/logger.js';
import { createHttpServer } from './http-server.js';

export interface RunningServer {
  gateway: Gateway;
  server: http.Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Builds the gateway from a config and listens. Used by `sluice serve` and by the tests. */
export async function startServer(config: SluiceConfig, logger: Logger, meter?: RequestMeter): Promise<RunningServer> {
  const gateway = new Gateway({ config, logger, ...(meter ? { meter } : {}) });
  const server = createHttpServer(gateway);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  const close = (graceMs = config.shutdown_grace): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await gateway.close();
    })();
    return closing;
  };
  return { gateway, server, url: `http://${host}:${port}`, close };
}
