/** The one source of "now". Services read it; outside production `/dev/clock` moves it. */
export type Clock = {
  now(): Date;
  set(now: Date): void;
  /** Stops time at `now` (tests that need exact instants); `set`/`advance` move it, `reset` restarts it. */
  freeze(now: Date): void;
  advance(seconds: number): void;
  reset(): void;
};

export function createClock(): Clock {
  let offsetMs = 0;
  let frozenMs: number | null = null;
  return {
    now: () => new Date(frozenMs ?? Date.now() + offsetMs),
    set: (now) => {
      if (frozenMs !== null) frozenMs = now.getTime();
      else offsetMs = now.getTime() - Date.now();
    },
    freeze: (now) => {
      frozenMs = now.getTime();
    },
    advance: (seconds) => {
      if (frozenMs !== null) frozenMs += seconds * 1000;
      else offsetMs += seconds * 1000;
    },
    reset: () => {
      offsetMs = 0;
      frozenMs = null;
    },
  };
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
