import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// cdk_<public prefix>_<secret>: the prefix finds the row, the secret is checked against its hash.
const KEY_SHAPE = /^cdk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  key: string;
  prefix: string;
  secretHash: Buffer;
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(12).toString('base64url').replace(/[-_]/g, '').slice(0, 12).padEnd(12, '0');
  const secret = randomBytes(32).toString('base64url');
  return { key: `cdk_${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

export function parseApiKey(key: string): { prefix: string; secret: string } | undefined {
  const match = KEY_SHAPE.exec(key);
  return match ? { prefix: match[1]!, secret: match[2]! } : undefined;
}

/** Keys carry 256 random bits, so a fast hash is enough: there is nothing to guess by brute force. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsEqual(presented: string, expectedHash: Buffer): boolean {
  const actual = hashSecret(presented);
  return actual.length === expectedHash.length && timingSafeEqual(actual, expectedHash);
}
