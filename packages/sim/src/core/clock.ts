import type { Clock } from './types.js'

interface Sleeper {
  due: number
  resolve: () => void
  timer?: NodeJS.Timeout
}

/** Simulated time = start + real elapsed × speed + everything `advance` added. */
export class SimClock implements Clock {
  private baseReal = Date.now()
  private baseSim: number
  private currentSpeed: number
  private sleepers = new Set<Sleeper>()
  private advancedMs = 0

  constructor(options: { start?: number; speed?: number } = {}) {
    this.baseSim = options.start ?? Date.now()
    this.currentSpeed = options.speed ?? 1
  }

  now(): number {
    return Math.floor(this.baseSim + (Date.now() - this.baseReal) * this.currentSpeed)
  }

  /**
   * Wall-clock time plus every explicit `advance`, without the speed-up: the time to judge timestamps that clients
   * sign with their own clock (presigned tokens), which a faster simulated clock would otherwise age too soon.
   */
  clientNow(): number {
    return Date.now() + this.advancedMs
  }

  get speed(): number {
    return this.currentSpeed
  }

  set speed(value: number) {
    if (!(value > 0)) throw new Error(`clock speed must be > 0, got ${value}`)
    this.baseSim = this.now()
    this.baseReal = Date.now()
    this.currentSpeed = value
    this.reschedule()
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`clock.advance needs ms >= 0, got ${ms}`)
    this.baseSim += ms
    this.advancedMs += ms
    this.reschedule()
  }

  sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper: Sleeper = { due: this.now() + Math.max(0, simulatedMs), resolve }
      this.sleepers.add(sleeper)
      this.schedule(sleeper)
    })
  }

  /** Resolves every pending sleep (used on shutdown). */
  wakeAll(): void {
    for (const s of this.sleepers) {
      clearTimeout(s.timer)
      s.resolve()
    }
    this.sleepers.clear()
  }

  private schedule(s: Sleeper): void {
    clearTimeout(s.timer)
    const remaining = s.due - this.now()
    if (remaining <= 0) {
      this.sleepers.delete(s)
      s.resolve()
      return
    }
    s.timer = setTimeout(() => this.schedule(s), Math.ceil(remaining / this.currentSpeed))
    s.timer.unref()
  }

  private reschedule(): void {
    for (const s of [...this.sleepers]) this.schedule(s)
  }
}
