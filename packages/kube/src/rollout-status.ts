/**
 * kubectl's `rollout status` predicates (pkg/polymorphichelpers/rollout_status.go), plus what kubectl lacks:
 * paused Deployments are an error, and pods of the new revision that cannot start fail the rollout at once.
 */

export interface RolloutState {
  done: boolean
  /** A definitive failure (progress deadline, paused, OnDelete, failed Job). */
  error?: string
  message: string
}

type Obj = Record<string, unknown>

function rec(value: unknown): Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {}
}
/** A scalar as text ('' for objects and missing values). */
export function str(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : ''
}
function num(value: unknown): number {
  return typeof value === 'number' ? value : 0
}
function optNum(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'

export function deploymentStatus(deployment: unknown): RolloutState {
  const d = rec(deployment)
  const meta = rec(d['metadata'])
  const spec = rec(d['spec'])
  const status = rec(d['status'])
  const name = str(meta['name'])
  if (spec['paused'] === true) {
    return {
      done: false,
      error: `deployment "${name}" is paused: a paused Deployment never rolls out`,
      message: 'paused'
    }
  }
  if (num(meta['generation']) <= num(status['observedGeneration'])) {
    const conditions = Array.isArray(status['conditions']) ? status['conditions'] : []
    const progressing = conditions.map(rec).find((c) => c['type'] === 'Progressing')
    if (progressing && progressing['reason'] === 'ProgressDeadlineExceeded') {
      return {
        done: false,
        error: `deployment "${name}" exceeded its progress deadline`,
        message: 'ProgressDeadlineExceeded'
      }
    }
    const replicas = optNum(spec['replicas'])
    const updated = num(status['updatedReplicas'])
    if (replicas !== undefined && updated < replicas) {
      return {
        done: false,
        message: `${updated} out of ${replicas} new replicas have been updated`
      }
    }
    const total = num(status['replicas'])
    if (total > updated) {
      return { done: false, message: `${total - updated} old replicas are pending termination` }
    }
    const available = num(status['availableReplicas'])
    if (available < updated) {
      return { done: false, message: `${available} of ${updated} updated replicas are available` }
    }
    return { done: true, message: `deployment "${name}" successfully rolled out` }
  }
  return { done: false, message: 'Waiting for deployment spec update to be observed' }
}

/** The parts of a StatefulSet or DaemonSet, or the error kubectl gives when its updates are not rolling. */
function rollingWorkload(
  object: unknown
): { meta: Obj; spec: Obj; status: Obj; strategy: Obj } | RolloutState {
  const o = rec(object)
  const spec = rec(o['spec'])
  const strategy = rec(spec['updateStrategy'])
  if (strategy['type'] !== undefined && strategy['type'] !== 'RollingUpdate') {
    return {
      done: true,
      error: 'rollout status is only available for RollingUpdate strategy type',
      message: `updateStrategy ${str(strategy['type'])}`
    }
  }
  return { meta: rec(o['metadata']), spec, status: rec(o['status']), strategy }
}

export function statefulSetStatus(statefulSet: unknown): RolloutState {
  const workload = rollingWorkload(statefulSet)
  if ('done' in workload) return workload
  const { meta, spec, status, strategy } = workload
  const observed = num(status['observedGeneration'])
  if (observed === 0 || num(meta['generation']) > observed) {
    return { done: false, message: 'Waiting for statefulset spec update to be observed' }
  }
  const replicas = optNum(spec['replicas'])
  if (replicas !== undefined && num(status['readyReplicas']) < replicas) {
    return {
      done: false,
      message: `Waiting for ${replicas - num(status['readyReplicas'])} pods to be ready`
    }
  }
  const rolling = strategy['rollingUpdate']
  if (rolling !== undefined && rolling !== null) {
    const partition = optNum(rec(rolling)['partition'])
    if (replicas !== undefined && partition !== undefined) {
      if (num(status['updatedReplicas']) < replicas - partition) {
        return {
          done: false,
          message: `Waiting for partitioned roll out to finish: ${num(status['updatedReplicas'])} out of ${replicas - partition} new pods have been updated`
        }
      }
    }
    return {
      done: true,
      message: `partitioned roll out complete: ${num(status['updatedReplicas'])} new pods have been updated`
    }
  }
  if (status['updateRevision'] !== status['currentRevision']) {
    return {
      done: false,
      message: `waiting for statefulset rolling update to complete ${num(status['updatedReplicas'])} pods at revision ${str(status['updateRevision'])}`
    }
  }
  return {
    done: true,
    message: `statefulset rolling update complete ${num(status['currentReplicas'])} pods at revision ${str(status['currentRevision'])}`
  }
}

export function daemonSetStatus(daemonSet: unknown): RolloutState {
  const workload = rollingWorkload(daemonSet)
  if ('done' in workload) return workload
  const { meta, status } = workload
  if (num(meta['generation']) <= num(status['observedGeneration'])) {
    const desired = num(status['desiredNumberScheduled'])
    const updated = num(status['updatedNumberScheduled'])
    if (updated < desired) {
      return {
        done: false,
        message: `${updated} out of ${desired} new pods have been updated`
      }
    }
    const available = num(status['numberAvailable'])
    if (available < desired) {
      return { done: false, message: `${available} of ${desired} updated pods are available` }
    }
    return { done: true, message: `daemon set "${str(meta['name'])}" successfully rolled out` }
  }
  return { done: false, message: 'Waiting for daemon set spec update to be observed' }
}

/** A Job is done when its Complete condition is True; a Failed condition is an error. */
export function jobStatus(job: unknown): RolloutState {
  const j = rec(job)
  const status = rec(j['status'])
  const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []).map(rec)
  const failed = conditions.find((c) => c['type'] === 'Failed' && c['status'] === 'True')
  if (failed) {
    return {
      done: false,
      error: `job "${str(rec(j['metadata'])['name'])}" failed: ${str(failed['reason'])}${failed['message'] ? ` (${str(failed['message'])})` : ''}`,
      message: 'Failed'
    }
  }
  if (conditions.some((c) => c['type'] === 'Complete' && c['status'] === 'True')) {
    return { done: true, message: `job "${str(rec(j['metadata'])['name'])}" completed` }
  }
  const spec = rec(j['spec'])
  return {
    done: false,
    message: `${num(status['succeeded'])} of ${optNum(spec['completions']) ?? 1} completions`
  }
}

/** Kinds whose rollout we follow. */
export const WAITED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job'])

export function rolloutStatus(object: { kind: string }): RolloutState {
  switch (object.kind) {
    case 'Deployment':
      return deploymentStatus(object)
    case 'StatefulSet':
      return statefulSetStatus(object)
    case 'DaemonSet':
      return daemonSetStatus(object)
    case 'Job':
      return jobStatus(object)
    default:
      return { done: true, message: 'not a workload' }
  }
}

/** Waiting reasons that never resolve on their own: the rollout fails at once. */
export const FATAL_WAITING_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'InvalidImageName',
  'CreateContainerError'
])

export interface PodProblem {
  pod: string
  container: string
  reason: string
  message: string
  exitCode: number | undefined
}

/** The first container of a pod stuck in a fatal waiting state, with its last exit code. */
export function podProblem(pod: unknown): PodProblem | undefined {
  const p = rec(pod)
  const status = rec(p['status'])
  const name = str(rec(p['metadata'])['name'])
  for (const list of ['initContainerStatuses', 'containerStatuses']) {
    const statuses = Array.isArray(status[list]) ? (status[list] as unknown[]) : []
    for (const cs of statuses.map(rec)) {
      const waiting = rec(rec(cs['state'])['waiting'])
      const reason = waiting['reason']
      if (typeof reason === 'string' && FATAL_WAITING_REASONS.has(reason)) {
        const terminated = rec(rec(cs['lastState'])['terminated'])
        return {
          pod: name,
          container: str(cs['name']),
          reason,
          message: typeof waiting['message'] === 'string' ? waiting['message'] : '',
          exitCode: optNum(terminated['exitCode'])
        }
      }
    }
  }
  return undefined
}

/** "CrashLoopBackOff (exit code 1): back-off restarting…" */
export function describeProblem(problem: PodProblem): string {
  return `pod ${problem.pod} container ${problem.container}: ${problem.reason}${problem.exitCode !== undefined ? ` (last exit code ${problem.exitCode})` : ''}${problem.message ? `: ${problem.message}` : ''}`
}
