/** A recurring period in a target's own time zone when no call is made to it. `days`: days it starts on. */
export interface MaintenanceWindow {
  timeZone: string;
  days?: readonly string[];
  start: string;
  end: string;
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MINUTES_PER_DAY = 24 * 60;

/** Milliseconds until the window that contains `now` ends, or 0 when no window contains it. */
export function maintenanceRemainingMs(windows: readonly MaintenanceWindow[], now: Date): number {
  let longest = 0;
  for (const window of windows) longest = Math.max(longest, remainingInWindow(window, now));
  return longest;
}

function remainingInWindow(window: MaintenanceWindow, now: Date): number {
  const { weekday, minute, second } = localTime(now, window.timeZone);
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  const startsOn = (day: number) => !window.days || window.days.includes(WEEKDAYS[(day + 7) % 7]!);
  const nowMinutes = minute + second / 60;
  let remainingMinutes = 0;
  if (end > start) {
    if (startsOn(weekday) && nowMinutes >= start && nowMinutes < end) remainingMinutes = end - nowMinutes;
  } else {
    // The window runs past midnight: it is either in its first evening or in the next morning.
    if (startsOn(weekday) && nowMinutes >= start) remainingMinutes = MINUTES_PER_DAY - nowMinutes + end;
    else if (startsOn(weekday - 1) && nowMinutes < end) remainingMinutes = end - nowMinutes;
  }
  return Math.ceil(remainingMinutes * 60_000);
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(now: Date, timeZone: string): { weekday: number; minute: number; second: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  const weekday = WEEKDAYS.indexOf(String(parts.weekday).toLowerCase().slice(0, 3));
  return { weekday, minute: Number(parts.hour) * 60 + Number(parts.minute), second: Number(parts.second) };
}
