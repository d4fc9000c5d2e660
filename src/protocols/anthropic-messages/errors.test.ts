import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/gateway-error.js';
import { anthropicErrorType, readAnthropicUpstreamError, renderAnthropicErrorBody, renderAnthropicStreamError } from './errors.js';

test('error types follow the status table', () => {
  const byStatus: Array<[number, string]> = [
    [400, 'invalid_request_error'], [401, 'authentication_error'], [402, 'billing_error'], [403, 'permission_error'],
    [404, 'not_found_error'], [413, 'request_too_large'], [429, 'rate_limit_error'], [500, 'api_error'],
    [504, 'timeout_error'], [529, 'overloaded_error'], [405, 'invalid_request_error'], [422, 'invalid_request_error'],
    [502, 'api_error'], [503, 'api_error'],
  ];
  for (const [status, type] of byStatus) assert.equal(anthropicErrorType(new GatewayError('upstream_http_error', 'x', { status })), type, String(status));
  assert.equal(anthropicErrorType(new GatewayError('model_not_found', 'x')), 'not_found_error');
  assert.equal(anthropicErrorType(new GatewayError('upstream_timeout', 'x')), 'timeout_error');
  assert.equal(anthropicErrorType(new GatewayError('invalid_api_key', 'x')), 'authentication_error');
});

test("an Anthropic upstream's own type is kept; another vendor's is not", () => {
  assert.equal(anthropicErrorType(new GatewayError('upstream_stream_error', 'x', { upstreamType: 'overloaded_error' })), 'overloaded_error');
  assert.equal(anthropicErrorType(new GatewayError('upstream_stream_error', 'x', { upstreamType: 'server_error' })), 'api_error');
});

test('HTTP body and in-stream error frame', () => {
  const error = new GatewayError('invalid_request', "Invalid value for 'max_tokens': this field is required", { param: 'max_tokens' });
  assert.deepEqual(JSON.parse(renderAnthropicErrorBody(error, 'req_1')), {
    type: 'error', error: { type: 'invalid_request_error', message: "Invalid value for 'max_tokens': this field is required" }, request_id: 'req_1',
  });
  const frame = renderAnthropicStreamError(new GatewayError('upstream_stream_error', 'Overloaded', { upstreamType: 'overloaded_error' }));
  assert.equal(frame, 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
});

test('upstream error bodies are read in Anthropic and bare shapes', () => {
  assert.deepEqual(readAnthropicUpstreamError({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long' }, request_id: 'req_x' }), {
    message: 'prompt is too long', type: 'invalid_request_error',
  });
  assert.deepEqual(readAnthropicUpstreamError({ error: { message: 'nope' } }), { message: 'nope', type: undefined });
  assert.deepEqual(readAnthropicUpstreamError({ error: 'plain' }), { message: 'plain', type: undefined });
  assert.equal(readAnthropicUpstreamError({ type: 'message', content: [] }), undefined);
  assert.equal(readAnthropicUpstreamError('oops'), undefined);
});
