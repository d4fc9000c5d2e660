import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../core/gateway-error.js';

/**
 * The admin API's only credential: `Authorization: Bearer <admin_key>` from the config. Client
 * keys never work here. Both sides are hashed first so the constant-time compare sees equal
 * lengths whatever was sent. Without an admin_key, /admin/* does not exist (404).
 */
export class AdminAuth {
  private readonly digest: Buffer | undefined;

  constructor(adminKey: string | undefined) {
    this.digest = adminKey === undefined ? undefined : sha256(adminKey);
  }

  get enabled(): boolean {
    return this.digest !== undefined;
  }

  check(headers: Record<string, string | string[] | undefined>): void {
    if (this.digest === undefined) throw new GatewayError('unknown_url', 'The admin API is off: set admin_key in the config to turn it on.');
    const authorization = headers.authorization;
    const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim()) : null;
    if (match?.[1] === undefined) {
      throw new GatewayError('missing_api_key', "The admin API needs the admin key: send 'Authorization: Bearer <admin_key>'.");
    }
    if (!timingSafeEqual(sha256(match[1]), this.digest)) throw new GatewayError('invalid_api_key', 'Incorrect admin key provided.');
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
