/** The one source of "now". Services read it; outside production `/dev/clock` moves it. */
export type Clock = {
  now(): Date;
  set(now: Date): void;
  advance(seconds: number): void;
  reset(): void;
};

export function createClock(): Clock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    set: (now) => {
      offsetMs = now.getTime() - Date.now();
    },
    advance: (seconds) => {
      offsetMs += seconds * 1000;
    },
    reset: () => {
      offsetMs = 0;
    },
  };
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
