import { isObject } from '../../core/json.js';

export interface GeminiErrorDetails {
  message: string;
  /** Google's canonical status, e.g. RESOURCE_EXHAUSTED. */
  type: string | undefined;
  /** The HTTP-like numeric code, as text (e.g. "429"). */
  code: string | undefined;
  /** From a google.rpc.RetryInfo detail, rounded up to whole seconds. */
  retryAfterSeconds: number | undefined;
}

const retryInfoType = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * A Gemini error body: `{"error":{"code":429,"message","status","details":[...]}}` (Google's
 * google.rpc.Status in JSON, https://ai.google.dev/gemini-api/docs/troubleshooting). Some Google
 * endpoints (the streaming endpoint without `alt=sse`) wrap it in an array: `[{"error":...}]`.
 * Undefined when the payload is not an error.
 */
export function readGeminiError(payload: unknown): GeminiErrorDetails | undefined {
  const body = Array.isArray(payload) && payload.length === 1 ? payload[0] : payload;
  if (!isObject(body)) return undefined;
  const error = body.error;
  if (typeof error === 'string') return { message: error, type: undefined, code: undefined, retryAfterSeconds: undefined };
  if (!isObject(error)) return undefined;
  const message = typeof error.message === 'string' && error.message !== '' ? error.message : JSON.stringify(error);
  const type = typeof error.status === 'string' && error.status !== '' ? error.status : undefined;
  const code = typeof error.code === 'number' || typeof error.code === 'string' ? String(error.code) : undefined;
  return { message, type, code, retryAfterSeconds: retryDelaySeconds(error.details) };
}

/** RetryInfo.retryDelay is a protobuf Duration: JSON "34.4s", or {seconds, nanos} from some gateways. */
function retryDelaySeconds(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (!isObject(detail) || detail['@type'] !== retryInfoType) continue;
    const delay = detail.retryDelay;
    let seconds: number | undefined;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match?.[1] !== undefined) seconds = Number(match[1]);
    } else if (isObject(delay)) {
      const whole = Number(delay.seconds ?? 0);
      const nanos = Number(delay.nanos ?? 0);
      if (Number.isFinite(whole) && Number.isFinite(nanos)) seconds = whole + nanos / 1e9;
    }
    if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  }
  return undefined;
}
