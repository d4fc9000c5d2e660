import { parseConfigText } from '../../src/config/load-config.js';
import { createLogger, type LogLevel } from '../../src/observability/logger.js';
import type { RequestMeter, RequestRecord } from '../../src/gateway/request-record.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';

export const clientKey = 'sk-test-client-key-1';

export interface TestSluice extends RunningServer {
  /** Base URL for the OpenAI SDK, e.g. http://127.0.0.1:1234/v1 */
  baseURL: string;
  records: RequestRecord[];
}

/**
 * Starts Sluice in-process on a free loopback port from YAML text. `port` is forced to 0.
 * Requests are recorded instead of logged, so tests can check the accounting.
 */
export async function startSluice(yaml: string, env: Record<string, string> = {}): Promise<TestSluice> {
  const parsed = parseConfigText(yaml, 'test.yaml', env);
  // Tests never write the embedded database in the working tree unless they ask for a store.
  const config = /^store:/m.test(yaml) ? parsed : { ...parsed, store: 'memory' };
  const records: RequestRecord[] = [];
  const meter: RequestMeter = { record: (r) => void records.push(r) };
  const level = (process.env.SLUICE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;
  const running = await startServer({ ...config, port: 0 }, createLogger(level), meter);
  return { ...running, baseURL: `${running.url}/v1`, records };
}

/** A config with one OpenAI-compatible provider per upstream URL and one model routed across them in order. */
export function configFor(upstreams: string[], extra = ''): string {
  const providers = upstreams.map((url, i) => `  up${i}:\n    kind: openai\n    base_url: ${url}\n    api_key: sk-upstream-${i}\n`).join('');
  const routes = upstreams.map((_, i) => `up${i}/model-${i}`).join(', ');
  return `host: 127.0.0.1\nport: 0\nproviders:\n${providers}models:\n  test-model:\n    routes: [${routes}]\nkeys:\n  - name: test\n    key: ${clientKey}\n${extra}`;
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
