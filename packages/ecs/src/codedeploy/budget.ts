/**
 * How long to wait for a CodeDeploy ECS deployment: the group's ready wait, the traffic shift of the deployment
 * configuration and the termination wait, plus an allowance for the replacement task set and the hooks; capped by
 * the user's wait-timeout. Absent settings count as zero (never NaN or infinite).
 */
export interface BlueGreenSettings {
  deploymentReadyOption?: { actionOnTimeout?: string; waitTimeInMinutes?: number }
  terminateBlueInstancesOnDeploymentSuccess?: {
    action?: string
    terminationWaitTimeInMinutes?: number
  }
}

export interface WaitBudget {
  /** The budget the action waits, in ms. */
  ms: number
  /** What the deployment group and configuration add up to, in ms. */
  derivedMs: number
  /** Which one applies. */
  source: 'deployment group' | 'wait-timeout'
  explanation: string
}

/** Replacement task set + hooks: CodeDeploy's own wait is longer, but a job should not idle that long. */
export const INSTALL_ALLOWANCE_MINUTES = 15

/** 90s → "1m30s", 900000 → "15m". */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000)
  const m = Math.floor(total / 60)
  const sec = total % 60
  return m && sec ? `${m}m${sec}s` : m ? `${m}m` : `${sec}s`
}

function minutes(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0
}

/** The minutes a predefined configuration shifts traffic for (AllAtOnce or unknown: 0). */
export function trafficShiftMinutes(configName: string | undefined): number {
  if (!configName) return 0
  let m = /Canary(\d+)Percent(\d+)Minutes?$/.exec(configName)
  if (m) return Number(m[2])
  m = /Linear(\d+)PercentEvery(\d+)Minutes?$/.exec(configName)
  if (m) {
    const step = Number(m[1])
    return step > 0 ? (Math.ceil(100 / step) - 1) * Number(m[2]) : 0
  }
  return 0
}

export function waitBudget(
  settings: BlueGreenSettings | undefined,
  configName: string | undefined,
  userTimeoutMs: number,
  options: { includeTermination?: boolean } = {}
): WaitBudget {
  const ready =
    settings?.deploymentReadyOption?.actionOnTimeout === 'STOP_DEPLOYMENT'
      ? minutes(settings.deploymentReadyOption.waitTimeInMinutes)
      : 0
  const term = settings?.terminateBlueInstancesOnDeploymentSuccess
  const termination =
    options.includeTermination === false || term?.action === 'KEEP_ALIVE'
      ? 0
      : minutes(term?.terminationWaitTimeInMinutes)
  const shift = trafficShiftMinutes(configName)
  const derivedMin = INSTALL_ALLOWANCE_MINUTES + ready + shift + termination
  const derivedMs = derivedMin * 60_000
  const parts = `${INSTALL_ALLOWANCE_MINUTES}m install and hooks + ${ready}m ready wait + ${shift}m traffic shift + ${termination}m termination wait = ${derivedMin}m`
  if (derivedMs <= userTimeoutMs) {
    return {
      ms: derivedMs,
      derivedMs,
      source: 'deployment group',
      explanation: `wait budget ${parts} (from the deployment group; wait-timeout is ${formatDuration(userTimeoutMs)})`
    }
  }
  return {
    ms: userTimeoutMs,
    derivedMs,
    source: 'wait-timeout',
    explanation: `wait budget ${formatDuration(userTimeoutMs)} from wait-timeout (the deployment group would need ${parts})`
  }
}
