import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What every stored key's secret starts with, so it is recognisable in a leak scan or a log. */
export const SECRET_PREFIX = 'sk-sluice-';
/** `sk-sluice-` + 6 characters: shown in listings, and the lookup index (36 random bits). */
export const DISPLAY_PREFIX_LENGTH = 16;
/** 32 random bytes in base64url (no padding) are 43 characters. */
const SECRET_LENGTH = SECRET_PREFIX.length + 43;

export interface NewSecret {
  /** Shown once, never stored. */
  secret: string;
  prefix: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
}

/** A fresh 256-bit key secret. */
export function generateSecret(): NewSecret {
  const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: displayPrefix(secret), hash: hashSecret(secret) };
}

/**
 * The lookup prefix of a presented secret, or undefined when it cannot be a stored key (wrong
 * prefix or length): such a request is refused without touching the key index.
 */
export function lookupPrefix(presented: string): string | undefined {
  return presented.length === SECRET_LENGTH && presented.startsWith(SECRET_PREFIX) ? displayPrefix(presented) : undefined;
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/**
 * Whether `presented` hashes to `storedHash`. The digests are compared in constant time: an
 * attacker timing responses learns nothing about how many bytes matched. Digests have a fixed
 * length, so timingSafeEqual never throws on a well-formed hash; a malformed one never matches.
 */
export function secretMatches(presentedDigest: Buffer, storedHash: string): boolean {
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presentedDigest.length && timingSafeEqual(stored, presentedDigest);
}

/** Once per request: the one-shot hash() skips the Hash stream object createHash() builds. */
export function digestOf(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** A stable handle for update and revoke; not secret. */
export function newKeyId(): string {
  return `key_${randomBytes(8).toString('hex')}`;
}
