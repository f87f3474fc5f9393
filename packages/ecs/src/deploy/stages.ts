/**
 * Lifecycle stages of an ECS-native BLUE_GREEN / CANARY / LINEAR service deployment, as DescribeServiceDeployments
 * reports them: which stage runs, how production traffic is split between the target and source revisions, and
 * the lifecycle hooks of the stage. Each stage is printed as it starts and ends and its duration is recorded.
 */
import type { DeploymentLifecycleHookDetail, ServiceDeployment } from '@aws-sdk/client-ecs'

export const LIFECYCLE_STAGE_ORDER = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP'
] as const

export interface StageRecord {
  stage: string
  startedAt: number
  endedAt: number | undefined
  /** Production traffic on the new revision when the stage ended (or now). */
  trafficPercent: number | undefined
}

export type LifecycleStage = (typeof LIFECYCLE_STAGE_ORDER)[number]

export function isLifecycleStage(value: string): value is LifecycleStage {
  return (LIFECYCLE_STAGE_ORDER as readonly string[]).includes(value)
}

/** Whether `current` is `target` or a later stage. */
export function stageReached(current: string | undefined, target: string): boolean {
  if (!current) return false
  const c = LIFECYCLE_STAGE_ORDER.indexOf(current as (typeof LIFECYCLE_STAGE_ORDER)[number])
  const t = LIFECYCLE_STAGE_ORDER.indexOf(target as (typeof LIFECYCLE_STAGE_ORDER)[number])
  return c >= 0 && t >= 0 && c >= t
}

/** "new 10% / old 90%" from the revisions' requested production traffic weights. */
export function trafficSplit(sd: ServiceDeployment): string | undefined {
  const target = sd.targetServiceRevision?.requestedProductionTrafficWeight
  if (target === undefined) return undefined
  const old = (sd.sourceServiceRevisions ?? []).reduce(
    (sum, r) => sum + (r.requestedProductionTrafficWeight ?? 0),
    0
  )
  return `production traffic: new ${target}% / old ${old}%`
}

export function hookLabel(h: DeploymentLifecycleHookDetail): string {
  const target = h.targetType === 'PAUSE' ? 'PAUSE' : (h.targetArn ?? h.targetType ?? 'hook')
  return `hook ${h.hookId ?? '?'} (${target})`
}

export class StageWatcher {
  readonly records: StageRecord[] = []
  private readonly hookStates = new Map<string, string>()

  constructor(
    private readonly info: (message: string) => void,
    private readonly now: () => number
  ) {}

  get current(): StageRecord | undefined {
    return this.records[this.records.length - 1]
  }

  /** Notes a stage change and hook status changes; returns whether anything was new. */
  observe(sd: ServiceDeployment | undefined): boolean {
    if (!sd?.lifecycleStage) return false
    let changed = false
    const at = this.now()
    const weight = sd.targetServiceRevision?.requestedProductionTrafficWeight
    const split = trafficSplit(sd)
    const cur = this.current
    if (cur?.stage !== sd.lifecycleStage) {
      if (cur && cur.endedAt === undefined) {
        cur.endedAt = at
        this.info(
          `stage ${cur.stage} ended after ${formatMs(at - cur.startedAt)}${split ? ` (${split})` : ''}`
        )
      }
      this.records.push({
        stage: sd.lifecycleStage,
        startedAt: at,
        endedAt: undefined,
        trafficPercent: weight
      })
      this.info(`stage ${sd.lifecycleStage} started${split ? ` (${split})` : ''}`)
      changed = true
    } else if (cur && weight !== undefined && weight !== cur.trafficPercent) {
      cur.trafficPercent = weight
      this.info(`stage ${cur.stage}: ${split}`)
      changed = true
    }
    for (const h of sd.lifecycleHookDetails ?? []) {
      const key = h.hookId ?? hookLabel(h)
      if (this.hookStates.get(key) !== h.status) {
        this.hookStates.set(key, h.status ?? '')
        this.info(`stage ${sd.lifecycleStage}: ${hookLabel(h)} ${h.status ?? ''}`)
        changed = true
      }
    }
    return changed
  }

  /** Closes the running stage when the deployment ended. */
  finish(): void {
    const cur = this.current
    if (cur && cur.endedAt === undefined) cur.endedAt = this.now()
  }
}

export function formatMs(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  return s % 60 ? `${m}m${s % 60}s` : `${m}m`
}
