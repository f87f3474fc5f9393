import { ActionError } from '@shipline/action-kit'
import { type KubeApi, kubeErrorInfo } from './client.js'
import {
  applyOrder,
  CLUSTER_SCOPED,
  type KubeObject,
  type LoadedObject,
  objectId,
  shortId
} from './manifests.js'
import { imageSlots } from './images.js'
import {
  describeProblem,
  type PodProblem,
  podProblem,
  REVISION_ANNOTATION,
  rolloutStatus,
  str,
  WAITED_KINDS
} from './rollout-status.js'

export const ANNOTATION_PREFIX = 'shipline.dev/'

export type DeployStatus = 'SUCCESSFUL' | 'FAILED' | 'ROLLED_BACK' | 'TIMED_OUT' | 'DRY_RUN'

export interface AppliedItem {
  kind: string
  namespace?: string
  name: string
}

export interface WorkloadResult {
  id: string
  /** deployment/web */
  short: string
  outcome: 'ROLLED_OUT' | 'FAILED' | 'TIMED_OUT' | 'ROLLED_BACK' | 'NOT_WAITED'
  message: string
  durationMs: number
  revision?: string
  problem?: PodProblem
  events?: string[]
}

export interface DeployReport {
  status: DeployStatus
  applied: AppliedItem[]
  workloads: WorkloadResult[]
  message?: string
  notes: string[]
}

export interface DeployOptions {
  objects: LoadedObject[]
  namespace: string
  forceConflicts: boolean
  dryRun: boolean
  respectHpa: boolean
  timeoutMs: number
  rollbackOnFailure: boolean
  /** Added to every object's metadata.annotations (commit, run URL). */
  annotations: Record<string, string>
}

export interface DeployDeps {
  api: KubeApi
  now(): number
  info(message: string): void
  warning(message: string): void
  /** Called on 401/403 from the API server: returns the error to throw (with the access diagnosis). */
  onAuthError(status: number, message: string): Promise<Error>
  /** Fallback re-check interval while watching (a safety net for dropped watches). */
  recheckMs?: number
}

/** A failure after something was applied: carries the partial report. */
export class DeployError extends ActionError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly report: DeployReport
  ) {
    super(message, hint)
  }
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function matchLabelsSelector(object: KubeObject): string | undefined {
  const selector = record(record(object['spec'])['selector'])
  const labels = record(selector['matchLabels'])
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`)
  const expressions = Array.isArray(selector['matchExpressions'])
    ? selector['matchExpressions']
    : []
  for (const e of expressions.map(record)) {
    const values = Array.isArray(e['values']) ? (e['values'] as string[]) : []
    if (e['operator'] === 'In') parts.push(`${str(e['key'])} in (${values.join(',')})`)
    else if (e['operator'] === 'NotIn') parts.push(`${str(e['key'])} notin (${values.join(',')})`)
    else if (e['operator'] === 'Exists') parts.push(str(e['key']))
    else if (e['operator'] === 'DoesNotExist') parts.push(`!${str(e['key'])}`)
  }
  return parts.length ? parts.join(',') : undefined
}

/** Conflict message → the other field managers named in it. */
export function conflictManagers(message: string): string[] {
  const managers = new Set<string>()
  for (const m of message.matchAll(/conflicts? with "([^"]+)"/g)) managers.add(m[1] as string)
  return [...managers]
}

async function applyError(error: unknown, object: KubeObject, deps: DeployDeps): Promise<Error> {
  const info = kubeErrorInfo(error)
  const id = shortId(object)
  if (info.code === 401 || info.code === 403) return deps.onAuthError(info.code, info.message)
  if (info.code === 409) {
    const managers = conflictManagers(info.message)
    const named = managers.length
      ? managers.map((m) => `"${m}"`).join(', ')
      : 'another field manager'
    const hpa = managers.some((m) => /horizontal|hpa|kube-controller-manager/i.test(m))
    return new ActionError(
      `server-side apply of ${id} conflicts with field manager ${named}: ${info.message}`,
      `${hpa ? 'An autoscaler owns spec.replicas: remove replicas from the manifest (or keep respect-hpa: true). ' : ''}Either stop ${named} from managing those fields (e.g. remove them from the other tool's manifest), or take ownership with "force-conflicts: true" (Shipline then owns them and the other manager's values are overwritten).`
    )
  }
  if (info.code === 422 && /selector/i.test(info.message) && /immutable/i.test(info.message)) {
    return new ActionError(
      `${id}: spec.selector cannot change on an existing object (${info.message})`,
      'Keep the live selector in the manifest, or create the workload under a new name and delete the old one; Shipline never changes or deletes it for you.'
    )
  }
  if (info.code === 404 || /Unrecognized API version and kind/i.test(info.message)) {
    return new ActionError(
      `the cluster does not serve ${object.kind} in ${object.apiVersion} (${id}): ${info.message}`,
      'Install the CRD first (put the CustomResourceDefinition in the same manifests, it is applied before the rest), or fix apiVersion/kind.'
    )
  }
  return new ActionError(
    `applying ${id} failed${info.code ? ` (HTTP ${info.code})` : ''}: ${info.message}`,
    'Fix the manifest as the API server says; nothing after this object was applied.'
  )
}

async function resolveNamespace(
  object: KubeObject,
  namespace: string,
  api: KubeApi
): Promise<void> {
  if (object.metadata.namespace) return
  let namespaced = await api.isNamespaced(object.apiVersion, object.kind).catch(() => undefined)
  if (namespaced === undefined) namespaced = !CLUSTER_SCOPED.has(object.kind)
  if (namespaced) object.metadata.namespace = namespace
}

function annotate(object: KubeObject, annotations: Record<string, string>): void {
  const meta = object.metadata as Record<string, unknown>
  const current = record(meta['annotations'])
  const extra: Record<string, string> = { ...annotations }
  const images = imageSlots(object).map((s) => s.image)
  if (images.length) extra[`${ANNOTATION_PREFIX}images`] = [...new Set(images)].join(',')
  meta['annotations'] = { ...current, ...extra }
}

/** HPA targets ("Kind/namespace/name") in the namespaces given. */
async function hpaTargets(
  api: KubeApi,
  namespaces: string[],
  warning: (message: string) => void
): Promise<Set<string>> {
  const targets = new Set<string>()
  for (const ns of namespaces) {
    let hpas: KubeObject[]
    try {
      hpas = await api.list('autoscaling/v2', 'HorizontalPodAutoscaler', ns)
    } catch {
      try {
        hpas = await api.list('autoscaling/v1', 'HorizontalPodAutoscaler', ns)
      } catch (error) {
        warning(
          `could not list HorizontalPodAutoscalers in namespace ${ns} (${kubeErrorInfo(error).message}): spec.replicas is sent as the manifests say`
        )
        continue
      }
    }
    for (const hpa of hpas) {
      const ref = record(record(hpa['spec'])['scaleTargetRef'])
      if (typeof ref['kind'] === 'string' && typeof ref['name'] === 'string') {
        targets.add(`${ref['kind']}/${ns}/${ref['name']}`)
      }
    }
  }
  return targets
}

interface Tracked {
  object: KubeObject
  before: KubeObject | undefined
  started: number
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

interface RevisionedSet {
  rs: KubeObject
  revision: number
}

/** The ReplicaSets a Deployment owns, with their revision numbers, newest first. */
async function replicaSetsOf(api: KubeApi, live: KubeObject): Promise<RevisionedSet[]> {
  const selector = matchLabelsSelector(live)
  const sets = await api.list('apps/v1', 'ReplicaSet', live.metadata.namespace, {
    labelSelector: selector
  })
  const uid = record(live.metadata)['uid']
  return sets
    .filter((rs) => {
      const owners = Array.isArray(rs.metadata['ownerReferences'])
        ? rs.metadata['ownerReferences']
        : []
      return !uid || !owners.length || owners.some((o) => record(o)['uid'] === uid)
    })
    .map((rs) => ({ rs, revision: Number(revisionOf(rs) ?? 0) }))
    .sort((a, b) => b.revision - a.revision)
}

/** The Deployment's current ReplicaSet: its revision annotation, else the newest revision. */
function currentReplicaSet(live: KubeObject, sets: RevisionedSet[]): RevisionedSet | undefined {
  const revision = revisionOf(live)
  return (revision ? sets.find((s) => String(s.revision) === revision) : undefined) ?? sets[0]
}

/** The pods of the revision being rolled out (new ReplicaSet / update revision), or all selected pods. */
async function newPods(api: KubeApi, live: KubeObject): Promise<KubeObject[]> {
  const ns = live.metadata.namespace
  const selector = matchLabelsSelector(live)
  if (!selector && live.kind !== 'Job') return []
  const pods = await api.list('v1', 'Pod', ns, {
    labelSelector: selector ?? `controller-uid=${str(record(live.metadata)['uid'])}`
  })
  if (live.kind === 'Deployment') {
    const sets = await replicaSetsOf(api, live)
    const current = currentReplicaSet(live, sets)
    if (!current) return []
    const hash = record(current.rs.metadata['labels'])['pod-template-hash']
    return pods.filter((p) => {
      const owners = Array.isArray(p.metadata['ownerReferences'])
        ? p.metadata['ownerReferences']
        : []
      return (
        owners.some((o) => record(o)['name'] === current.rs.metadata.name) ||
        (hash !== undefined && record(p.metadata['labels'])['pod-template-hash'] === hash)
      )
    })
  }
  if (live.kind === 'StatefulSet') {
    const update = record(live['status'])['updateRevision']
    if (typeof update === 'string') {
      return pods.filter((p) => record(p.metadata['labels'])['controller-revision-hash'] === update)
    }
  }
  return pods
}

function eventTime(event: KubeObject): number {
  for (const key of ['lastTimestamp', 'eventTime', 'firstTimestamp']) {
    const value = event[key]
    if (typeof value === 'string' && value) return Date.parse(value) || 0
  }
  return Date.parse(str(record(event.metadata)['creationTimestamp'])) || 0
}

/** The pod's latest events, oldest first, its Warnings always included (at most 6 lines). */
async function recentEvents(
  api: KubeApi,
  namespace: string | undefined,
  pod: string
): Promise<string[]> {
  try {
    const events = (
      await api.list('v1', 'Event', namespace, { fieldSelector: `involvedObject.name=${pod}` })
    ).sort((a, b) => eventTime(a) - eventTime(b))
    const warnings = events.filter((e) => e['type'] === 'Warning').slice(-3)
    const others = events.filter((e) => e['type'] !== 'Warning').slice(-(6 - warnings.length))
    return [...others, ...warnings]
      .sort((a, b) => eventTime(a) - eventTime(b))
      .map((e) => `${str(e['reason'])}: ${str(e['message'])}`)
  } catch {
    return []
  }
}

interface WaitOutcome {
  outcome: 'ROLLED_OUT' | 'FAILED' | 'TIMED_OUT'
  message: string
  live?: KubeObject
  problem?: PodProblem
  events?: string[]
}

/** Waits for one workload: watch events trigger a fresh evaluation; one overall deadline. */
async function waitForWorkload(
  deps: DeployDeps,
  object: KubeObject,
  deadline: number
): Promise<WaitOutcome> {
  const { api } = deps
  const ns = object.metadata.namespace
  const name = object.metadata.name
  let lastMessage = ''
  let result: WaitOutcome | undefined
  let wake: () => void = () => undefined
  const trigger = () => wake()
  const handles: { stop(): void }[] = []
  const startWatch = async (
    kind: string,
    apiVersion: string,
    opts: { labelSelector?: string; fieldSelector?: string }
  ) => {
    try {
      handles.push(
        await api.watch(apiVersion, kind, ns, opts, trigger, () => {
          // the server ended the watch: the periodic re-check keeps us going, and we restart it
          if (!result) void startWatch(kind, apiVersion, opts)
        })
      )
    } catch {
      // watch unavailable: the periodic re-check still evaluates
    }
  }
  await startWatch(object.kind, object.apiVersion, { fieldSelector: `metadata.name=${name}` })
  const selector = matchLabelsSelector(object)
  if (selector) await startWatch('Pod', 'v1', { labelSelector: selector })
  const recheck = deps.recheckMs ?? 2000
  try {
    while (!result) {
      const live = await api.get(object.apiVersion, object.kind, ns, name)
      if (!live) {
        result = { outcome: 'FAILED', message: `${shortId(object)} was deleted during the rollout` }
        break
      }
      const state = rolloutStatus(live)
      if (state.error) {
        result = { outcome: 'FAILED', message: state.error, live }
        if (live.kind === 'Deployment') {
          const pods = await newPods(api, live).catch(() => [])
          const problem = pods.map(podProblem).find((p) => p)
          if (problem) {
            result.problem = problem
            result.events = await recentEvents(api, ns, problem.pod)
          }
        }
        break
      }
      if (state.done) {
        result = { outcome: 'ROLLED_OUT', message: state.message, live }
        break
      }
      if (state.message !== lastMessage) {
        deps.info(`${shortId(object)}: ${state.message}`)
        lastMessage = state.message
      }
      const pods = await newPods(api, live).catch(() => [] as KubeObject[])
      const problem = pods.map(podProblem).find((p) => p)
      if (problem) {
        result = {
          outcome: 'FAILED',
          message: describeProblem(problem),
          live,
          problem,
          events: await recentEvents(api, ns, problem.pod)
        }
        break
      }
      const left = deadline - deps.now()
      if (left <= 0) {
        result = {
          outcome: 'TIMED_OUT',
          message: `timed out waiting for ${shortId(object)}: ${state.message}`,
          live
        }
        break
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(recheck, left))
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      wake = () => undefined
      // coalesce bursts of watch events
      await sleep(50)
    }
  } finally {
    for (const h of handles) h.stop()
  }
  return result
}

function revisionOf(object: KubeObject | undefined): string | undefined {
  const value = record(object?.metadata['annotations'])[REVISION_ANNOTATION]
  return typeof value === 'string' ? value : undefined
}

/** The `rollout undo` target: the ReplicaSet with the highest revision below the current one. */
async function previousReplicaSet(
  api: KubeApi,
  live: KubeObject
): Promise<{ revision: string; template: Record<string, unknown> } | undefined> {
  const sets = await replicaSetsOf(api, live)
  const current = currentReplicaSet(live, sets)
  if (!current) return undefined
  const target = sets.find((s) => s.revision > 0 && s.revision < current.revision)
  if (!target) return undefined
  const template = JSON.parse(
    JSON.stringify(record(target.rs['spec'])['template'] ?? {})
  ) as Record<string, unknown>
  const meta = record(template['metadata'])
  const labels = { ...record(meta['labels']) }
  delete labels['pod-template-hash']
  delete meta['creationTimestamp']
  template['metadata'] = { ...meta, labels }
  return { revision: String(target.revision), template }
}

function templateOf(object: KubeObject | undefined): string {
  return JSON.stringify(record(object?.['spec'])['template'] ?? null)
}

/**
 * Applies the objects (server-side, field manager "shipline"), then follows every workload's rollout under one
 * deadline, failing fast on pods that cannot start; on failure rolls changed Deployments back.
 */
export async function deployManifests(
  deps: DeployDeps,
  options: DeployOptions
): Promise<DeployReport> {
  const { api } = deps
  const start = deps.now()
  const deadline = start + options.timeoutMs
  const report: DeployReport = { status: 'FAILED', applied: [], workloads: [], notes: [] }
  const ordered = applyOrder(options.objects)

  // HPA-managed workloads: do not send replicas
  if (options.respectHpa) {
    const namespaces = new Set<string>()
    for (const { object } of ordered) {
      if (WAITED_KINDS.has(object.kind) || object.kind === 'ReplicaSet') {
        namespaces.add(object.metadata.namespace ?? options.namespace)
      }
    }
    const targets = await hpaTargets(api, [...namespaces], (m) => deps.warning(m)).catch(
      async (error: unknown) => {
        const info = kubeErrorInfo(error)
        if (info.code === 401 || info.code === 403)
          throw await deps.onAuthError(info.code, info.message)
        return new Set<string>()
      }
    )
    for (const { object } of ordered) {
      const key = `${object.kind}/${object.metadata.namespace ?? options.namespace}/${object.metadata.name}`
      const spec = record(object['spec'])
      if (targets.has(key) && 'replicas' in spec) {
        delete spec['replicas']
        report.notes.push(
          `${shortId(object)}: spec.replicas not sent (a HorizontalPodAutoscaler manages it)`
        )
        deps.info(
          `${shortId(object)} is scaled by a HorizontalPodAutoscaler: spec.replicas is left to it`
        )
      }
    }
  }

  const tracked: Tracked[] = []
  for (const { object } of ordered) {
    await resolveNamespace(object, options.namespace, api)
    annotate(object, options.annotations)
    let before: KubeObject | undefined
    if (WAITED_KINDS.has(object.kind)) {
      try {
        before = await api.get(
          object.apiVersion,
          object.kind,
          object.metadata.namespace,
          object.metadata.name
        )
      } catch (error) {
        throw await applyError(error, object, deps)
      }
    }
    try {
      await api.apply(object, { dryRun: options.dryRun, force: options.forceConflicts })
    } catch (error) {
      const failure = await applyError(error, object, deps)
      if (!report.applied.length) throw failure
      report.message = failure.message
      throw new DeployError(failure.message, (failure as ActionError).hint, report)
    }
    report.applied.push({
      kind: object.kind,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      name: object.metadata.name
    })
    deps.info(`${options.dryRun ? 'validated (server dry-run)' : 'applied'} ${objectId(object)}`)
    if (WAITED_KINDS.has(object.kind)) tracked.push({ object, before, started: deps.now() })
  }
  if (options.dryRun) {
    report.status = 'DRY_RUN'
    report.message = `server dry-run accepted ${report.applied.length} object(s); nothing was changed`
    return report
  }

  const outcomes = await Promise.all(
    tracked.map(async (t) => ({ t, out: await waitForWorkload(deps, t.object, deadline) }))
  )
  for (const { t, out } of outcomes) {
    if (out.outcome !== 'ROLLED_OUT') {
      deps.warning(`${shortId(t.object)}: ${out.message}`)
      for (const event of out.events ?? []) deps.info(`  event ${event}`)
    }
    report.workloads.push({
      id: objectId(t.object),
      short: shortId(t.object),
      outcome: out.outcome,
      message: out.message,
      durationMs: deps.now() - t.started,
      ...(revisionOf(out.live) ? { revision: revisionOf(out.live) } : {}),
      ...(out.problem ? { problem: out.problem } : {}),
      ...(out.events?.length ? { events: out.events } : {})
    })
  }
  const failed = outcomes.filter((o) => o.out.outcome !== 'ROLLED_OUT')
  if (!failed.length) {
    report.status = 'SUCCESSFUL'
    report.message = `${report.applied.length} object(s) applied; ${tracked.length} workload(s) rolled out`
    return report
  }
  const first = failed[0] as (typeof failed)[number]
  const cause = first.out.message
  const timedOut = failed.every((f) => f.out.outcome === 'TIMED_OUT')
  report.status = timedOut ? 'TIMED_OUT' : 'FAILED'
  report.message = `rollout of ${shortId(first.t.object)} failed: ${cause}`

  if (!options.rollbackOnFailure) return report

  // Roll back every Deployment whose template this run changed (a new revision appeared).
  const rolledBack: { t: Tracked; revision: string }[] = []
  const notes: string[] = []
  for (const { t, out } of outcomes) {
    if (t.object.kind !== 'Deployment') continue
    const live =
      out.live ??
      (await api.get(
        t.object.apiVersion,
        t.object.kind,
        t.object.metadata.namespace,
        t.object.metadata.name
      ))
    if (!live) continue
    // only Deployments whose pod template this run changed have something to undo
    if (!t.before || templateOf(t.before) === templateOf(live)) continue
    const previous = await previousReplicaSet(api, live)
    if (!previous) {
      notes.push(`${shortId(t.object)} has no previous revision to roll back to`)
      continue
    }
    const body = JSON.parse(JSON.stringify(t.object)) as KubeObject
    ;(body['spec'] as Record<string, unknown>)['template'] = previous.template
    deps.warning(`rolling ${shortId(t.object)} back to revision ${previous.revision}`)
    await api.apply(body, { dryRun: false, force: true })
    rolledBack.push({ t, revision: previous.revision })
  }
  report.notes.push(...notes)
  if (!rolledBack.length) {
    report.message += notes.length ? ` (not rolled back: ${notes.join('; ')})` : ''
    return report
  }
  const rollbackDeadline = Math.max(deadline, deps.now()) + Math.max(60_000, options.timeoutMs / 2)
  let allBack = true
  for (const { t, revision } of rolledBack) {
    const back = await waitForWorkload(deps, t.object, rollbackDeadline)
    const entry = report.workloads.find((w) => w.id === objectId(t.object))
    if (back.outcome === 'ROLLED_OUT') {
      if (entry) {
        entry.outcome = 'ROLLED_BACK'
        entry.message = `${entry.message}; rolled back to revision ${revision}`
      }
    } else {
      allBack = false
      if (entry)
        entry.message = `${entry.message}; the rollback to revision ${revision} did not complete: ${back.message}`
    }
  }
  const target = rolledBack.find((r) => r.t === first.t) ?? rolledBack[0]
  if (!target) return report
  if (allBack) {
    report.status = 'ROLLED_BACK'
    report.message = `rollout of ${shortId(first.t.object)} failed and was rolled back to revision ${target.revision}: ${cause}`
  } else {
    report.status = 'FAILED'
    report.message = `rollout of ${shortId(first.t.object)} failed (${cause}) and the rollback to revision ${target.revision} did not complete`
  }
  return report
}
