import { GatewayError } from '../../core/gateway-error.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { readAnthropicUpstreamError } from './errors.js';

/** Failures of one Anthropic upstream stream, shared by the decoder and the passthrough. */
export class AnthropicStreamFaults {
  constructor(private readonly route: string) {}

  /** An event's data as a JSON object; anything else is a protocol failure of the route. */
  parse(data: string): JsonObject {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      throw this.protocolError(`a malformed event: ${data.slice(0, 200)}`);
    }
    if (!isObject(payload)) throw this.protocolError(`an event that is not a JSON object: ${data.slice(0, 200)}`);
    return payload;
  }

  /** An `error` event, whatever its data looks like. */
  inBandError(data: string): GatewayError {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      payload = undefined;
    }
    const details = readAnthropicUpstreamError(payload);
    return new GatewayError('upstream_stream_error', `Upstream ${this.route} reported an error: ${details?.message ?? data.slice(0, 200)}`, {
      route: this.route,
      upstreamType: details?.type,
    });
  }

  protocolError(what: string): GatewayError {
    return new GatewayError('upstream_protocol_error', `Upstream ${this.route} sent ${what}`, { route: this.route });
  }
}
