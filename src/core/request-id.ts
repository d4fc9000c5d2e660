import { randomUUID } from 'node:crypto';

/** A request id, returned as `x-request-id` and written on every log line of the request. */
export function newRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}
