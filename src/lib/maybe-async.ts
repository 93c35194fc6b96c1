/**
 * A value now (a cache hit) or later (a load). The warm request path passes these along so a request
 * the caches can decide answers without a promise or a microtask; `await` takes either.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `next(value)` at once when the value is here, else once it arrives. */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
