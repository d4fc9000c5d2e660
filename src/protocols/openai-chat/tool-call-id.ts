import { randomBytes } from 'node:crypto';

/** An id for a tool call whose upstream gave none; clients need one to answer the call. */
export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
