import { describe, expect, it } from 'vitest';
import { MASK, maskSecrets, restoreMaskedSecrets } from './secrets.js';

describe('maskSecrets', () => {
  it('masks secret fields that hold a value and leaves the rest', () => {
    expect(maskSecrets({ url: 'https://x', secret: 'whsec_abc', token: undefined }, ['secret', 'token'])).toEqual({
      url: 'https://x',
      secret: MASK,
      token: undefined,
    });
  });

  it('does not change its input', () => {
    const config = { secret: 's' };
    maskSecrets(config, ['secret']);
    expect(config.secret).toBe('s');
  });
});

describe('restoreMaskedSecrets', () => {
  it('keeps the stored secret when the client sends the mask back', () => {
    const { config, unresolved } = restoreMaskedSecrets({ url: 'b', secret: MASK }, { url: 'a', secret: 'real' }, ['secret']);
    expect(config).toEqual({ url: 'b', secret: 'real' });
    expect(unresolved).toEqual([]);
  });

  it('takes a new secret as given', () => {
    expect(restoreMaskedSecrets({ secret: 'new' }, { secret: 'old' }, ['secret']).config.secret).toBe('new');
  });

  it('reports a mask with nothing stored behind it', () => {
    expect(restoreMaskedSecrets({ secret: MASK }, undefined, ['secret']).unresolved).toEqual(['secret']);
  });

  it('round-trips: masking then restoring gives the stored config back', () => {
    const stored = { clientId: 'id', clientSecret: 'shh', tenantId: 't' };
    const roundTrip = restoreMaskedSecrets(maskSecrets(stored, ['clientSecret']), stored, ['clientSecret']);
    expect(roundTrip.config).toEqual(stored);
  });
});
