import { describe, expect, it } from 'vitest';
import { maintenanceRemainingMs } from './maintenance-window.js';

const berlinSunday = { timeZone: 'Europe/Berlin', days: ['sun'], start: '02:00', end: '04:00' };

describe('maintenanceRemainingMs', () => {
  it('is the time left when inside the window, in the window\'s own time zone', () => {
    // 2026-11-29 is a Sunday; 02:30 in Berlin (CET, UTC+1) is 01:30 UTC.
    expect(maintenanceRemainingMs([berlinSunday], new Date('2026-11-29T01:30:00Z'))).toBe(90 * 60_000);
  });

  it('is 0 outside the window, on other days, and at its end', () => {
    expect(maintenanceRemainingMs([berlinSunday], new Date('2026-11-29T00:59:00Z'))).toBe(0);
    expect(maintenanceRemainingMs([berlinSunday], new Date('2026-11-28T01:30:00Z'))).toBe(0);
    expect(maintenanceRemainingMs([berlinSunday], new Date('2026-11-29T03:00:00Z'))).toBe(0);
  });

  it('follows a window past midnight into the next day', () => {
    const nightly = { timeZone: 'UTC', days: ['fri'], start: '22:00', end: '02:00' };
    expect(maintenanceRemainingMs([nightly], new Date('2026-11-27T23:00:00Z'))).toBe(3 * 3_600_000); // Friday night
    expect(maintenanceRemainingMs([nightly], new Date('2026-11-28T01:00:00Z'))).toBe(3_600_000); // Saturday morning
    expect(maintenanceRemainingMs([nightly], new Date('2026-11-29T01:00:00Z'))).toBe(0); // Sunday morning
  });

  it('applies every day when no days are given, and takes the longest of overlapping windows', () => {
    const daily = { timeZone: 'UTC', start: '10:00', end: '10:30' };
    const long = { timeZone: 'UTC', start: '10:00', end: '12:00' };
    expect(maintenanceRemainingMs([daily, long], new Date('2026-11-25T10:15:00Z'))).toBe(105 * 60_000);
  });
});
