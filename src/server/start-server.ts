import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { SluiceConfig } from '../config/schema.js';
import { Gateway } from '../gateway/gateway.js';
import { rm } from 'node:fs/promises';
import { LedgerWriter } from '../storage/ledger-writer.js';
import { defaultJournalDir, openStore } from '../storage/open-store.js';
import type { RequestMeter } from '../gateway/request-record.js';
import type { Logger } from '../observability/logger.js';
import { GatewayError } from '../core/gateway-error.js';
import { openAiDialect } from '../gateway/openai-dialect.js';
import { respondError } from '../gateway/respond-error.js';
import { createHttpServer } from './http-server.js';
import type { NodeResponseSink } from './node-response-sink.js';

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
  const store = await openStore(config.store);
  try {
    await store.startBackground?.();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  // Usage rows are journaled on the request path and written to the store in batches; rows a
  // previous run could not store (crash, database down) are replayed first.
  const journalDir = config.ledger_journal === undefined ? defaultJournalDir(config.store) : resolve(config.ledger_journal);
  let ledger: LedgerWriter;
  try {
    ledger = new LedgerWriter(store.ledger, journalDir, { logger });
  } catch (error) {
    // The journal folder is locked by another instance, or cannot be created.
    await store.close().catch(() => {});
    throw error;
  }
  const closeStorage = async (): Promise<void> => {
    await ledger.close();
    await store.close();
    // A memory store's journal is a private temp folder that nothing will ever replay.
    if (config.store === 'memory' && config.ledger_journal === undefined) await rm(journalDir, { recursive: true, force: true });
  };
  const gateway = new Gateway({ config, logger, store, ledger, ...(meter ? { meter } : {}) });
  // Stored keys are loaded before the first request: until then Sluice cannot tell keyless mode from keyed.
  await ledger
    .recover()
    .then(() => gateway.start())
    .catch(async (error: unknown) => {
      await Promise.allSettled([gateway.close(), closeStorage()]);
      throw error;
    });
  const { server, inFlight } = createHttpServer(gateway);
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
      const timer = setTimeout(() => void cutInFlight(inFlight).then(() => server.closeAllConnections()), graceMs);
      await closed;
      clearTimeout(timer);
      await gateway.close();
      await closeStorage();
    })();
    return closing;
  };
  return { gateway, server, url: `http://${host}:${port}`, close };
}

/** How long the shutdown errors get to reach clients before their connections are closed. */
const farewellMs = 1_000;

/**
 * The grace period is over: every response still running ends with an error in its client's
 * protocol (a stream that simply stopped would look complete to the SDKs), and the upstream calls
 * behind them are cancelled.
 */
async function cutInFlight(inFlight: ReadonlySet<NodeResponseSink>): Promise<void> {
  const error = new GatewayError('shutting_down', 'Sluice is shutting down; the request was cut short. Retry it.');
  const sinks = [...inFlight];
  for (const sink of sinks) {
    respondError(sink, openAiDialect, error);
    sink.cancel();
  }
  await Promise.race([Promise.all(sinks.map((sink) => sink.settled())), new Promise((resolve) => setTimeout(resolve, farewellMs))]);
}
