/**
 * The polling cadence of a deployment wait: start fast, back off while nothing changes, jump back to the start
 * when something does, double on throttling, and always jitter so that parallel jobs do not poll in lockstep.
 */
export interface PollOptions {
  initialMs: number
  maxMs: number
  factor: number
  /** Fraction of the interval added or removed at random (0.2 = ±20 %). */
  jitter: number
}

export const DEFAULT_POLL: PollOptions = {
  initialMs: 2500,
  maxMs: 15_000,
  factor: 1.5,
  jitter: 0.2
}

export class PollInterval {
  private base: number

  constructor(
    private readonly options: PollOptions = DEFAULT_POLL,
    private readonly random: () => number = Math.random
  ) {
    this.base = options.initialMs
  }

  /** The next wait in ms after a poll that saw a change (`changed`), none, or throttling. */
  next(outcome: 'changed' | 'unchanged' | 'throttled'): number {
    if (outcome === 'changed') this.base = this.options.initialMs
    else if (outcome === 'throttled') this.base = Math.min(this.options.maxMs * 2, this.base * 2)
    else this.base = Math.min(this.options.maxMs, this.base * this.options.factor)
    const spread = this.base * this.options.jitter
    return Math.max(250, Math.round(this.base - spread + 2 * spread * this.random()))
  }
}

/** Sleeps `ms`, waking early when `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
