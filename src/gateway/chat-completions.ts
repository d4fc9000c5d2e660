import { performance } from 'node:perf_hooks';
import { GatewayError, toGatewayError } from '../core/gateway-error.js';
import { decodeChatRequest, type ChatRequest } from '../protocols/openai-chat/request.js';
import type { ClientKey, KeyRing } from './authenticate.js';
import type { RelayResult } from './attempt-result.js';
import { openAiDialect } from './openai-dialect.js';
import type { RequestMeter, RequestRecord } from './request-record.js';
import { respondError } from './respond-error.js';
import type { ResponseSink } from './response-sink.js';
import { relayStream } from './relay-stream.js';
import { relayUnary } from './relay-unary.js';
import type { RouteTable } from './route-table.js';

export interface ChatSettings {
  firstByteDeadlineMs: number;
  keepAliveIntervalMs: number;
  maxEventBytes: number;
  maxResponseBytes: number;
}

export interface ChatCall {
  requestId: string;
  headers: Record<string, string | string[] | undefined>;
  /** Reads the request body (capped); rejects when it is too large or the client goes away. */
  readBody: () => Promise<Buffer>;
  sink: ResponseSink;
  startedAt: number;
}

/**
 * POST /v1/chat/completions, top to bottom: authenticate -> decode -> route -> (admit: limits and
 * budgets come with the ledger) -> attempt routes until the commit point -> respond -> account.
 * Every request ends in exactly one record, whatever happened.
 */
export async function handleChatCompletions(
  call: ChatCall,
  deps: { keys: KeyRing; routes: RouteTable; meter: RequestMeter; settings: ChatSettings },
): Promise<void> {
  let key: ClientKey | undefined;
  let request: ChatRequest | undefined;
  let result: RelayResult | undefined;
  let rejection: GatewayError | undefined;
  try {
    key = deps.keys.authenticate(call.headers);
    request = decodeChatRequest(parseJson(await call.readBody()));
    const model = deps.routes.resolve(request.model);
    const common = { request, model, sink: call.sink, dialect: openAiDialect, startedAt: call.startedAt };
    result = request.stream
      ? await relayStream({ ...common, ...deps.settings })
      : await relayUnary({ ...common, maxResponseBytes: deps.settings.maxResponseBytes });
  } catch (error) {
    rejection = toGatewayError(error);
    respondError(call.sink, openAiDialect, rejection);
  } finally {
    deps.meter.record(toRecord({ call, key, request, result, rejection }));
  }
}

/** Fatal on invalid UTF-8: silently replacing bytes would change what the user sent. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new GatewayError('invalid_json', 'The request body is not valid UTF-8.');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new GatewayError('invalid_json', `The request body is not valid JSON: ${detail}`);
  }
}

interface Settled {
  call: ChatCall;
  key: ClientKey | undefined;
  request: ChatRequest | undefined;
  result: RelayResult | undefined;
  rejection: GatewayError | undefined;
}

function toRecord({ call, key, request, result, rejection }: Settled): RequestRecord {
  const error = rejection ?? result?.error;
  const aborted = call.sink.signal.aborted && result?.outcome !== 'ok';
  return {
    requestId: call.requestId,
    keyName: key?.name,
    model: request?.model,
    route: result?.route?.label,
    protocol: 'openai',
    stream: request?.stream ?? false,
    outcome: aborted ? 'client_aborted' : rejection ? 'rejected' : (result?.outcome ?? 'rejected'),
    status: aborted ? 499 : (rejection?.status ?? result?.status ?? 500),
    ttftMs: result?.ttftMs,
    durationMs: performance.now() - call.startedAt,
    attempts: result?.attempts ?? 0,
    usage: result?.usage,
    errorCode: error?.code,
    errorMessage: error === undefined ? undefined : describeForOperator(error),
  };
}

/** The error's message plus its cause (e.g. the upstream address a connection failed to), for logs. */
function describeForOperator(error: GatewayError): string {
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause === undefined || error.message.includes(cause) ? error.message : `${error.message} (${cause})`;
}
