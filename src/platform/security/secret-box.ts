import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;

/**
 * Seals secrets for storage with AES-256-GCM: `enc:v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url), the key id
 * being the first 8 hex digits of the key's SHA-256. It opens values sealed under the current key or any
 * previous one (a rotation), and passes unsealed values through (stored before a key was set). Without a key
 * it stores values as given.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId?: string;

  constructor(current?: Buffer, previous: readonly Buffer[] = []) {
    this.keys = new Map([...(current ? [current] : []), ...previous].map((key) => [keyId(key), key]));
    this.currentId = current ? keyId(current) : undefined;
  }

  get encrypting(): boolean {
    return this.currentId !== undefined;
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  /** True when `value` is sealed under the current key (nothing to rotate). */
  isCurrent(value: unknown): boolean {
    return !this.encrypting || (SecretBox.isSealed(value) && value.slice(PREFIX.length).startsWith(`${this.currentId}:`));
  }

  seal(value: string): string {
    if (!this.currentId) return value;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.currentId}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ciphertext.toString('base64url')}`;
  }

  open(value: string): string {
    if (!SecretBox.isSealed(value)) return value;
    const [id, iv, tag, ciphertext] = value.slice(PREFIX.length).split(':');
    const key = this.keys.get(id ?? '');
    if (!key || !iv || !tag || ciphertext === undefined) throw new SecretKeyError(`a secret is sealed under key ${id}, which this instance does not have (CROSSDOCK_SECRET_KEY, CROSSDOCK_SECRET_KEY_PREVIOUS)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}
