export const CONSOLE_SETTINGS = Symbol('CONSOLE_SETTINGS');

export interface ConsoleSettings {
  /** Where a trace id is shown: a URL with `{traceId}` in it; without one, trace ids are shown as text. */
  traceUrl?: string;
}
