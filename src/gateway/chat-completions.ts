import { performance } from 'node:perf_hooks';
import { GatewayError, toGatewayError } from '../core/gateway-error.js';
import { decodeChatRequest } from '../protocols/openai-chat/request.js';
import { checkAnthropicRequest } from '../protocols/anthropic-messages/request-decode.js';
import type { Admission, Ticket } from './admission.js';
import { settleUsage } from './settle-usage.js';
import type { ClientKey, KeyRing } from './authenticate.js';
import type { RelayResult } from './attempt-result.js';
import { anthropicDialect } from './anthropic-dialect.js';
import { anthropicExchange } from './anthropic-exchange.js';
import type { Exchange } from './exchange.js';
import { openAiDialect } from './openai-dialect.js';
import { openAiExchange } from './openai-exchange.js';
import type { ErrorDialect } from './respond-error.js';
import { parseJsonBody } from './parse-json-body.js';
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

export interface ChatDeps {
  keys: KeyRing;
  routes: RouteTable;
  admission: Admission;
  /** Integer nano-USD for a request's usage on a public model (0 when the model has no price). */
  cost: (record: RequestRecord) => { costNanoUsd: number; priceVersion: string | undefined };
  meter: RequestMeter;
  settings: ChatSettings;
}

/** What differs between the client protocols at the front of the pipeline. */
interface Ingress {
  protocol: RequestRecord['protocol'];
  dialect: ErrorDialect;
  /** The parsed body as an exchange; throws a 400 naming the field. */
  decode(payload: unknown): Exchange;
}

/** POST /v1/chat/completions (OpenAI Chat Completions). */
export function handleChatCompletions(call: ChatCall, deps: ChatDeps): Promise<void> {
  return handleChat(call, deps, { protocol: 'openai', dialect: openAiDialect, decode: (payload) => openAiExchange(decodeChatRequest(payload)) });
}

/** POST /v1/messages (Anthropic Messages). */
export function handleMessages(call: ChatCall, deps: ChatDeps): Promise<void> {
  return handleChat(call, deps, {
    protocol: 'anthropic',
    dialect: anthropicDialect(call.requestId),
    decode: (payload) => anthropicExchange({ ...checkAnthropicRequest(payload), requestId: call.requestId, forwardHeaders: anthropicForwardHeaders(call.headers) }),
  });
}

/**
 * One chat request, top to bottom: authenticate -> decode -> route -> admit (model access, rate
 * limits, budget) -> attempt routes until the commit point -> respond -> account. Every request
 * ends in exactly one record, whatever happened.
 */
async function handleChat(call: ChatCall, deps: ChatDeps, ingress: Ingress): Promise<void> {
  let key: ClientKey | undefined;
  let exchange: Exchange | undefined;
  let result: RelayResult | undefined;
  let rejection: GatewayError | undefined;
  let ticket: Ticket | undefined;
  try {
    key = await deps.keys.authenticateFresh(call.headers);
    const body = await call.readBody();
    exchange = ingress.decode(parseJsonBody(body));
    const model = deps.routes.resolve(exchange.model);
    ticket = await deps.admission.admit({ key, exchange, model, body });
    const common = { exchange, model, sink: call.sink, startedAt: call.startedAt };
    result = exchange.stream
      ? await relayStream({ ...common, ...deps.settings })
      : await relayUnary({ ...common, maxResponseBytes: deps.settings.maxResponseBytes });
  } catch (error) {
    rejection = toGatewayError(error);
    respondError(call.sink, ingress.dialect, rejection);
  } finally {
    const record = toRecord({ call, key, exchange, ingress, result, rejection });
    const decoded = exchange;
    if (decoded !== undefined) {
      // A stream cut short has no final usage: settle it with what was generated.
      record.usage = await settleUsage(result, () => decoded.estimatePromptTokens()).catch(() => record.usage);
    }
    const { costNanoUsd, priceVersion } = deps.cost(record);
    record.costNanoUsd = costNanoUsd;
    record.priceVersion = priceVersion;
    // Releases concurrency slots and replaces the reservations (tokens, budget) with the real usage.
    ticket?.settle({ costNanoUsd, tokens: record.usage === undefined ? 0 : record.usage.input + record.usage.output });
    deps.meter.record(record);
  }
}

/** Beta features the client opted into must reach an Anthropic upstream, or its answer changes. */
export function anthropicForwardHeaders(headers: ChatCall['headers']): Record<string, string> {
  const beta = headers['anthropic-beta'];
  const value = Array.isArray(beta) ? beta.join(',') : beta;
  return value ? { 'anthropic-beta': value } : {};
}

interface Settled {
  call: ChatCall;
  key: ClientKey | undefined;
  exchange: Exchange | undefined;
  ingress: Ingress;
  result: RelayResult | undefined;
  rejection: GatewayError | undefined;
}

function toRecord({ call, key, exchange, ingress, result, rejection }: Settled): RequestRecord {
  const error = rejection ?? result?.error;
  const aborted = call.sink.signal.aborted && result?.outcome !== 'ok';
  return {
    requestId: call.requestId,
    keyName: key?.name,
    keyId: key?.id,
    costNanoUsd: 0,
    priceVersion: undefined,
    model: exchange?.model,
    route: result?.route?.label,
    protocol: ingress.protocol,
    stream: exchange?.stream ?? false,
    outcome: aborted ? 'client_aborted' : rejection ? 'rejected' : (result?.outcome ?? 'rejected'),
    status: aborted ? 499 : rejection ? ingress.dialect.status(rejection) : (result?.status ?? 500),
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
