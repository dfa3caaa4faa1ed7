/**
 * Runs `work` after `firstAfterMs`, then every `everyMs`, never two at once (a run that takes longer skips the
 * turns it overlaps). The first run waits so that the configuration seeded at start is in place.
 */
export function startRecurring(work: () => Promise<void>, options: { firstAfterMs: number; everyMs: number; onError: (error: unknown) => void }) {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = work().catch(options.onError).finally(() => (running = undefined));
  };
  const first = setTimeout(tick, options.firstAfterMs);
  const every = setInterval(tick, options.everyMs);
  first.unref();
  every.unref();
  return {
    /** Stops the turns to come and waits for the one under way. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
