import { createHash } from 'node:crypto';
import { GatewayError } from '../core/gateway-error.js';
import type { StoredKey } from '../storage/types.js';

export interface ClientKey {
  /** The key's name; never the secret. */
  name: string;
  /** Stored keys only (config-declared keys and keyless mode have none). */
  id?: string;
  /** Public models this key may use; undefined = every model. */
  models?: readonly string[];
  /** The stored key behind it, for budgets and limits. */
  stored?: StoredKey;
}

export interface KeySource {
  name: string;
  key: string;
}

/**
 * Client keys, held only as SHA-256 digests. Lookup by digest compares no secret bytes, so response
 * timing says nothing about how much of a guessed key was right.
 */
export class KeyRing {
  private readonly byDigest = new Map<string, ClientKey>();

  /** `required` false: no keys were configured and Sluice is bound to loopback, so it serves everyone. */
  constructor(keys: KeySource[], private readonly required: boolean) {
    for (const { name, key } of keys) this.byDigest.set(digest(key), { name });
  }

  /** Reads `Authorization: Bearer <key>` (OpenAI, Anthropic 1.x SDKs) or `x-api-key` (Anthropic 0.x). */
  authenticate(headers: Record<string, string | string[] | undefined>): ClientKey {
    const presented = presentedKey(headers);
    if (!this.required) return anonymous;
    if (presented === undefined) {
      throw new GatewayError(
        'missing_api_key',
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' (or 'x-api-key: <key>').",
      );
    }
    const key = this.byDigest.get(digest(presented));
    if (key === undefined) throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
    return key;
  }
}

const anonymous: ClientKey = { name: 'anonymous' };

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64');
}

function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1]) return match[1].trim();
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}
