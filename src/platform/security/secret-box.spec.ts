import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, SecretKeyError } from './secret-box.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

describe('SecretBox', () => {
  it('seals with AES-256-GCM so that the value is not in the stored text, and opens it again', () => {
    const box = new SecretBox(newKey);
    const sealed = box.seal('shpat_0123456789');
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    expect(sealed).not.toContain('shpat');
    expect(box.seal('shpat_0123456789')).not.toBe(sealed);
    expect(box.open(sealed)).toBe('shpat_0123456789');
    expect(box.isCurrent(sealed)).toBe(true);
  });

  it('opens values sealed under a previous key during a rotation, and says they need sealing again', () => {
    const sealedOld = new SecretBox(oldKey).seal('s3cret');
    const rotating = new SecretBox(newKey, [oldKey]);
    expect(rotating.open(sealedOld)).toBe('s3cret');
    expect(rotating.isCurrent(sealedOld)).toBe(false);
    expect(rotating.isCurrent(rotating.seal('s3cret'))).toBe(true);
  });

  it('refuses a value sealed under a key it does not have, and a value tampered with', () => {
    const sealed = new SecretBox(oldKey).seal('s3cret');
    expect(() => new SecretBox(newKey).open(sealed)).toThrow(SecretKeyError);
    const parts = sealed.split(':');
    parts[5] = Buffer.from('tampered').toString('base64url');
    expect(() => new SecretBox(oldKey).open(parts.join(':'))).toThrow();
  });

  it('passes through values stored before a key was set, and stores as given without a key', () => {
    expect(new SecretBox(newKey).open('plain')).toBe('plain');
    expect(new SecretBox(newKey).isCurrent('plain')).toBe(false);
    expect(new SecretBox().seal('plain')).toBe('plain');
  });
});
