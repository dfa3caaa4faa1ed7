import { describe, expect, it } from 'vitest';
import { checkCustomer } from './customer-check.js';

const good = { blocked: ' ', creditLimit: 1000, balanceDue: 200 };

describe('checkCustomer', () => {
  it('accepts an unknown account unverified, for the ERP to decide', () => {
    expect(checkCustomer('99999', undefined, 10)).toEqual({ verdict: 'accept', verified: false });
  });
  it('refuses a customer blocked in any way', () => {
    for (const blocked of ['Ship', 'Invoice', 'All']) expect(checkCustomer('30000', { ...good, blocked }, 1).verdict).toBe('refuse');
  });
  it('holds an order that takes the balance over the limit, and accepts one that reaches it exactly', () => {
    expect(checkCustomer('10000', good, 800)).toEqual({ verdict: 'accept', verified: true });
    expect(checkCustomer('10000', good, 800.01)).toMatchObject({ verdict: 'hold', verified: true });
  });
  it('treats a credit limit of 0 as no limit', () => {
    expect(checkCustomer('10000', { ...good, creditLimit: 0, balanceDue: 1e9 }, 1e9).verdict).toBe('accept');
  });
});
