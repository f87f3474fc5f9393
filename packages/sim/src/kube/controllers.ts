/**
 * The controllers of the simulated cluster, all driven by the simulated clock (the API server calls
 * `reconcile()` on every request and every 50 ms of real time): HPA → scale, Deployment → ReplicaSets
 * (rolling update / recreate, revisions, progress deadline), ReplicaSet → Pods, StatefulSet, DaemonSet,
 * Job, and a kubelet that derives each Pod's status and Events from its image (the local registry or
 * declared images) and behaviour (healthy, crash, not-ready, slow-start).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { KubeCluster } from './cluster.js'
import { clone, isObj, updateOwnership, type Obj, str } from './fields.js'
import type { ResourceType } from './resources.js'
import { labelsOf, meta, nameOf, nsOf, selectorMatches } from './store.js'

export const TIMING = {
  /** image pull (ContainerCreating) */
  pullMs: 1000,
  /** container start → Ready (plus readinessProbe.initialDelaySeconds) */
  readyMs: 1000,
  /** a crashing container runs this long before it exits (default) */
  crashRunMs: 1000,
  /** a Job pod's container runs this long before it completes (default) */
  jobRunMs: 2000,
  /** ErrImagePull shows this long before ImagePullBackOff */
  errImagePullMs: 1000,
  backoffBaseMs: 10000,
  backoffMaxMs: 300000
}

interface ImageInfo {
  exists: boolean
  digest?: string
  behaviour: string
  exitCode: number
  runMs?: number
}

interface Ev {
  key: string
  at: number
  type: 'Normal' | 'Warning'
  reason: string
  message: string
  count: number
  fieldPath?: string
  component: string
}

interface PodView {
  status: Obj
  events: Ev[]
  ready: boolean
  readyAt?: number
  phase: string
}

const MANAGER = 'kube-controller-manager'
const POD_CHARS = 'bcdfghjklmnpqrstvwxz2456789'

function suffix(n = 5): string {
  return [...randomBytes(n)].map((b) => POD_CHARS[b % POD_CHARS.length]).join('')
}

function hashOf(v: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(v)).digest()
  return [...h.subarray(0, 10)].map((b) => POD_CHARS[b % POD_CHARS.length]).join('')
}

function intOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v
  const m = /^(\d+)%$/.exec(str(v ?? '0'))
  if (!m) return Number(v) || 0
  const x = (Number(m[1]) * total) / 100
  return roundUp ? Math.ceil(x) : Math.floor(x)
}

function ms(iso: unknown): number {
  const t = Date.parse(str(iso ?? ''))
  return Number.isFinite(t) ? t : 0
}

function ownedBy(o: Obj, uid: unknown): boolean {
  return ((meta(o).ownerReferences as Obj[] | undefined) ?? []).some((r) => r.uid === uid)
}

function backoff(k: number): number {
  return Math.min(TIMING.backoffBaseMs * 2 ** k, TIMING.backoffMaxMs)
}

export class Controllers {
  private images = new Map<
    string,
    { info: ImageInfo | 'pending'; checkedAt: number; refreshing: boolean }
  >()
  private createdMs = new Map<string, number>()
  /** when a container's ConfigMap/Secret references first resolved (CreateContainerConfigError before) */
  private configOkAt = new Map<string, number>()
  private events = new Map<string, { name: string; namespace: string; count: number }>()
  private revisions = new Map<string, Obj>()
  /** admin overrides: HPA desired replicas by namespace/name */
  readonly hpaDesired = new Map<string, number>()
  private views = new Map<string, PodView>()

  constructor(private readonly c: KubeCluster) {}

  private t(group: string, resource: string): ResourceType {
    return this.c.type(group, resource)
  }

  private now(): number {
    return this.c.deps.clock.now()
  }

  private iso(t: number): string {
    return new Date(Math.floor(t / 1000) * 1000).toISOString()
  }

  reconcile(): void {
    for (let pass = 0; pass < 4; pass++) {
      const before = this.c.store.rv
      this.views.clear()
      this.kubelet()
      this.replicaSetStatus()
      this.hpas()
      this.deployments()
      this.replicaSets()
      this.statefulSets()
      this.daemonSets()
      this.jobs()
      if (this.c.store.rv === before) break
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Writes `o` when it differs from the stored object (status writes: no ownership). */
  private save(t: ResourceType, o: Obj): Obj {
    const cur = this.c.store.get(t, nsOf(o), nameOf(o))
    if (cur && JSON.stringify(cur) === JSON.stringify(o)) return o
    return this.c.store.put(t, o)
  }

  private createChild(t: ResourceType, o: Obj, owner: Obj, ownerT: ResourceType): Obj {
    const m = meta(o)
    m.namespace = nsOf(owner)
    m.uid = randomUUID()
    m.creationTimestamp = this.iso(this.now())
    m.generation = 1
    m.ownerReferences = [
      {
        apiVersion: ownerT.group ? `${ownerT.group}/${ownerT.version}` : ownerT.version,
        kind: ownerT.kind,
        name: nameOf(owner),
        uid: meta(owner).uid,
        controller: true,
        blockOwnerDeletion: true
      }
    ]
    updateOwnership({
      before: undefined,
      after: o,
      manager: MANAGER,
      apiVersion: `${t.group ? `${t.group}/` : ''}${t.version}`,
      now: this.iso(this.now())
    })
    if (t.kind === 'Pod') {
      this.createdMs.set(String(m.uid), this.now())
      const spec = o.spec as Obj
      spec.nodeName ??= 'sim-node-1'
      o.status = { phase: 'Pending', qosClass: 'BestEffort' }
    }
    const stored = this.c.store.put(t, o)
    if (t.kind === 'Pod') {
      this.event(
        owner,
        ownerT.kind,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${nameOf(o)}`,
        ownerT.kind === 'Job' ? 'job-controller' : `${ownerT.kind.toLowerCase()}-controller`
      )
    }
    return stored
  }

  private deletePod(pod: Obj, owner: Obj, ownerKind: string): void {
    this.c.store.remove(this.t('', 'pods'), nsOf(pod), nameOf(pod))
    this.event(
      owner,
      ownerKind,
      'Normal',
      'SuccessfulDelete',
      `Deleted pod: ${nameOf(pod)}`,
      `${ownerKind.toLowerCase()}-controller`
    )
  }

  /** Records an Event about `obj` (deduplicated by reason+message; repeats bump `count`). */
  event(
    obj: Obj,
    kind: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
    opts: { key?: string; count?: number; at?: number; fieldPath?: string } = {}
  ): void {
    const key = `${String(meta(obj).uid)}|${opts.key ?? `${reason}|${message}`}`
    const count = opts.count ?? 1
    const at = this.iso(opts.at ?? this.now())
    const et = this.t('', 'events')
    const known = this.events.get(key)
    if (known) {
      if (known.count >= count && opts.count !== undefined) return
      if (opts.count === undefined) return
      const ev = this.c.store.get(et, known.namespace, known.name)
      if (!ev) return
      ev.count = count
      ev.lastTimestamp = at
      ev.message = message
      known.count = count
      this.c.store.put(et, ev)
      return
    }
    const namespace = nsOf(obj) ?? 'default'
    const name = `${nameOf(obj)}.${randomBytes(8).toString('hex')}`
    this.events.set(key, { name, namespace, count })
    this.c.store.put(et, {
      metadata: { name, namespace, creationTimestamp: at },
      involvedObject: {
        kind,
        namespace: nsOf(obj),
        name: nameOf(obj),
        uid: meta(obj).uid,
        apiVersion: str(obj.apiVersion ?? 'v1'),
        resourceVersion: meta(obj).resourceVersion,
        ...(opts.fieldPath ? { fieldPath: opts.fieldPath } : {})
      },
      reason,
      message,
      source: { component, ...(component === 'kubelet' ? { host: 'sim-node-1' } : {}) },
      firstTimestamp: at,
      lastTimestamp: at,
      count,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? 'sim-node-1' : ''
    })
  }

  // ---- images -----------------------------------------------------------------------------------

  private imageInfo(image: string, container: Obj): ImageInfo | 'pending' {
    const env = new Map(
      ((container.env as Obj[] | undefined) ?? []).map((e) => [String(e.name), str(e.value ?? '')])
    )
    const override = (i: ImageInfo): ImageInfo => ({
      ...i,
      behaviour: env.get('SHIPLINE_SIM_BEHAVIOUR') || i.behaviour,
      exitCode: env.has('SHIPLINE_SIM_EXIT_CODE')
        ? Number(env.get('SHIPLINE_SIM_EXIT_CODE'))
        : i.exitCode,
      runMs: env.has('SHIPLINE_SIM_RUN_SECONDS')
        ? Number(env.get('SHIPLINE_SIM_RUN_SECONDS')) * 1000
        : i.runMs
    })
    for (const r of this.c.deps.images()) {
      const hit = r.image.endsWith('*') ? image.startsWith(r.image.slice(0, -1)) : r.image === image
      if (!hit) continue
      return override({
        exists: r.exists !== false,
        digest: `sha256:${createHash('sha256').update(image).digest('hex')}`,
        behaviour: r.behaviour ?? 'healthy',
        exitCode: r.exitCode ?? 1,
        runMs: r.runSeconds !== undefined ? r.runSeconds * 1000 : undefined
      })
    }
    const cached = this.images.get(image)
    // (re)resolve in the background: first use, and again after a second of real time (a push may follow)
    if (!cached || (!cached.refreshing && Date.now() - cached.checkedAt > 1000)) {
      const entry = cached ?? { info: 'pending' as const, checkedAt: Date.now(), refreshing: true }
      entry.refreshing = true
      this.images.set(image, entry)
      const reg = this.c.deps.registry
      void (async () => {
        let info: ImageInfo = { exists: false, behaviour: 'healthy', exitCode: 1 }
        try {
          const digest = await reg.resolve(image)
          if (digest) {
            const labels = (await reg.labels(image).catch(() => undefined)) ?? {}
            info = {
              exists: true,
              digest,
              behaviour: labels['shipline.sim.behaviour'] ?? 'healthy',
              exitCode: Number(labels['shipline.sim.exit-code'] ?? 1)
            }
          }
        } catch {
          /* unresolvable → missing */
        }
        const changed = JSON.stringify(entry.info) !== JSON.stringify(info)
        entry.info = info
        entry.checkedAt = Date.now()
        entry.refreshing = false
        if (changed) this.c.reconcile()
      })()
    }
    const info = this.images.get(image)?.info ?? 'pending'
    return info === 'pending' ? 'pending' : override(info)
  }

  /** Forget cached image lookups (after a push or an admin change). */
  clearImageCache(): void {
    this.images.clear()
  }

  // ---- kubelet ----------------------------------------------------------------------------------

  private podView(pod: Obj): PodView {
    const uid = String(meta(pod).uid)
    const cached = this.views.get(uid)
    if (cached) return cached
    const view = this.computePod(pod)
    this.views.set(uid, view)
    return view
  }

  private computePod(pod: Obj): PodView {
    const now = this.now()
    const uid = String(meta(pod).uid)
    let t0 = this.createdMs.get(uid)
    if (t0 === undefined) {
      t0 = ms(meta(pod).creationTimestamp) || now
      this.createdMs.set(uid, t0)
    }
    const spec = (pod.spec ?? {}) as Obj
    const restart = str(spec.restartPolicy ?? 'Always')
    const podRef = `${nameOf(pod)}_${nsOf(pod) ?? ''}(${uid})`
    const events: Ev[] = [
      {
        key: 'Scheduled',
        at: t0,
        type: 'Normal',
        reason: 'Scheduled',
        message: `Successfully assigned ${nsOf(pod) ?? ''}/${nameOf(pod)} to sim-node-1`,
        count: 1,
        component: 'default-scheduler'
      }
    ]
    const statuses: Obj[] = []
    let allReady = true
    let readyAt = t0
    let anyRunning = false
    let allStarted = true
    let succeededAll = true
    let failedAny = false
    const containers = ((spec.containers as Obj[] | undefined) ?? []).filter(isObj)
    for (const c of containers) {
      const name = String(c.name)
      const image = str(c.image ?? '')
      const fieldPath = `spec.containers{${name}}`
      const st: Obj = {
        name,
        image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: {},
        lastState: {}
      }
      statuses.push(st)
      const info = this.imageInfo(image, c)
      events.push({
        key: `Pulling|${name}`,
        at: t0,
        type: 'Normal',
        reason: 'Pulling',
        message: `Pulling image "${image}"`,
        count: 1,
        fieldPath,
        component: 'kubelet'
      })
      const tPull = t0 + TIMING.pullMs
      if (info === 'pending' || now < tPull) {
        st.state = { waiting: { reason: 'ContainerCreating' } }
        allReady = false
        allStarted = false
        succeededAll = false
        continue
      }
      if (!info.exists) {
        allReady = false
        allStarted = false
        succeededAll = false
        const why = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`
        // attempts at a_0 = tPull, a_{k+1} = a_k + errImagePullMs + backoff(k)
        let a = tPull
        let k = 0
        while (a + TIMING.errImagePullMs + backoff(k) <= now) {
          a += TIMING.errImagePullMs + backoff(k)
          k++
        }
        events.push({
          key: `Failed|${name}`,
          at: tPull,
          type: 'Warning',
          reason: 'Failed',
          message: `Failed to pull image "${image}": ${why}`,
          count: k + 1,
          fieldPath,
          component: 'kubelet'
        })
        events.push({
          key: `ErrImagePull|${name}`,
          at: tPull,
          type: 'Warning',
          reason: 'Failed',
          message: 'Error: ErrImagePull',
          count: k + 1,
          fieldPath,
          component: 'kubelet'
        })
        if (now < a + TIMING.errImagePullMs)
          st.state = { waiting: { reason: 'ErrImagePull', message: why } }
        else {
          st.state = {
            waiting: {
              reason: 'ImagePullBackOff',
              message: `Back-off pulling image "${image}": ErrImagePull: ${why}`
            }
          }
          events.push({
            key: `BackOffPull|${name}`,
            at: tPull + TIMING.errImagePullMs,
            type: 'Normal',
            reason: 'BackOff',
            message: `Back-off pulling image "${image}"`,
            count: k + 1,
            fieldPath,
            component: 'kubelet'
          })
          events.push({
            key: `ImagePullBackOff|${name}`,
            at: tPull + TIMING.errImagePullMs,
            type: 'Warning',
            reason: 'Failed',
            message: 'Error: ImagePullBackOff',
            count: k + 1,
            fieldPath,
            component: 'kubelet'
          })
        }
        continue
      }
      st.imageID = `${image.replace(/[@:][^/@:]*$/, '').replace(/@.*$/, '')}@${info.digest ?? ''}`
      events.push({
        key: `Pulled|${name}`,
        at: tPull,
        type: 'Normal',
        reason: 'Pulled',
        message: `Successfully pulled image "${image}" in 1s (1s including waiting). Image size: 0 bytes.`,
        count: 1,
        fieldPath,
        component: 'kubelet'
      })
      const configError = this.configError(pod, c)
      const okKey = `${uid}/${name}`
      if (configError) {
        this.configOkAt.set(okKey, -1)
        st.state = { waiting: { reason: 'CreateContainerConfigError', message: configError } }
        allReady = false
        allStarted = false
        succeededAll = false
        events.push({
          key: `ConfigError|${name}|${configError}`,
          at: tPull,
          type: 'Warning',
          reason: 'Failed',
          message: `Error: ${configError}`,
          count: 1,
          fieldPath,
          component: 'kubelet'
        })
        continue
      }
      // a container that waited for its ConfigMap/Secret starts when the reference first resolved
      if (this.configOkAt.get(okKey) === -1) this.configOkAt.set(okKey, Math.max(tPull, now))
      const tStart = Math.max(tPull, this.configOkAt.get(okKey) ?? tPull)
      events.push({
        key: `Created|${name}`,
        at: tStart,
        type: 'Normal',
        reason: 'Created',
        message: `Created container: ${name}`,
        count: 1,
        fieldPath,
        component: 'kubelet'
      })
      events.push({
        key: `Started|${name}`,
        at: tStart,
        type: 'Normal',
        reason: 'Started',
        message: `Started container ${name}`,
        count: 1,
        fieldPath,
        component: 'kubelet'
      })
      const cid = `containerd://${createHash('sha256').update(`${uid}/${name}`).digest('hex')}`
      const behaviour = info.behaviour
      const crash = behaviour === 'crash' || behaviour === 'exit'
      const isJobPod = restart !== 'Always'
      if (crash || isJobPod) {
        const runMs = info.runMs ?? (crash ? TIMING.crashRunMs : TIMING.jobRunMs)
        const exitCode = crash ? info.exitCode : 0
        const term = (s: number, e: number): Obj => ({
          terminated: {
            exitCode,
            reason: exitCode === 0 ? 'Completed' : 'Error',
            startedAt: this.iso(s),
            finishedAt: this.iso(e),
            containerID: cid
          }
        })
        if (restart === 'Never' || (exitCode === 0 && restart === 'OnFailure')) {
          if (now < tStart + runMs) {
            st.state = { running: { startedAt: this.iso(tStart) } }
            st.started = true
            st.containerID = cid
            anyRunning = true
            allReady = false
            succeededAll = false
            continue
          }
          st.state = term(tStart, tStart + runMs)
          st.containerID = cid
          allReady = false
          if (exitCode !== 0) failedAny = true
          continue
        }
        // restart loop: run k starts s_k, ends s_k + runMs; s_{k+1} = end + backoff(k)
        let s = tStart
        let k = 0
        while (s + runMs + backoff(k) <= now) {
          s += runMs + backoff(k)
          k++
        }
        st.containerID = cid
        succeededAll = false
        allReady = false
        anyRunning = true
        if (now < s + runMs) {
          st.state = { running: { startedAt: this.iso(s) } }
          st.started = true
          st.restartCount = k
          if (k > 0) st.lastState = term(s - backoff(k - 1) - runMs, s - backoff(k - 1))
        } else {
          st.restartCount = k + 1
          st.state = {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${backoff(k) / 1000}s restarting failed container=${name} pod=${podRef}`
            }
          }
          st.lastState = term(s, s + runMs)
          events.push({
            key: `BackOff|${name}`,
            at: tStart + runMs,
            type: 'Warning',
            reason: 'BackOff',
            message: `Back-off restarting failed container ${name} in pod ${podRef}`,
            count: k + 1,
            fieldPath,
            component: 'kubelet'
          })
        }
        continue
      }
      st.state = { running: { startedAt: this.iso(tStart) } }
      st.started = true
      st.containerID = cid
      anyRunning = true
      succeededAll = false
      const probe = (c.readinessProbe ?? {}) as Obj
      let delay = TIMING.readyMs + Number(probe.initialDelaySeconds ?? 0) * 1000
      if (behaviour === 'slow-start') delay += 30000
      if (behaviour === 'not-ready') {
        allReady = false
        if (now >= tStart + delay)
          events.push({
            key: `Unhealthy|${name}`,
            at: tStart + delay,
            type: 'Warning',
            reason: 'Unhealthy',
            message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
            count: 1,
            fieldPath,
            component: 'kubelet'
          })
        continue
      }
      if (now >= tStart + delay) {
        st.ready = true
        readyAt = Math.max(readyAt, tStart + delay)
      } else allReady = false
    }
    if (containers.length === 0) allReady = false
    const phase =
      failedAny && restart === 'Never'
        ? 'Failed'
        : succeededAll &&
            containers.length > 0 &&
            restart !== 'Always' &&
            statuses.every((s) => isObj(s.state) && 'terminated' in s.state)
          ? 'Succeeded'
          : anyRunning && allStarted
            ? 'Running'
            : statuses.length > 0 &&
                statuses.every((s) => isObj(s.state) && 'terminated' in s.state)
              ? failedAny
                ? 'Failed'
                : 'Succeeded'
              : anyRunning
                ? 'Running'
                : 'Pending'
    const cond = (
      type: string,
      ok: boolean,
      at: number,
      reason?: string,
      message?: string
    ): Obj => ({
      type,
      status: ok ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: this.iso(at),
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {})
    })
    const unready = statuses.filter((s) => !s.ready).map((s) => String(s.name))
    const terminal = phase === 'Succeeded' || phase === 'Failed'
    const readyCond = terminal
      ? cond('Ready', false, now, 'PodCompleted')
      : allReady
        ? cond('Ready', true, readyAt)
        : cond(
            'Ready',
            false,
            t0,
            'ContainersNotReady',
            `containers with unready status: [${unready.join(' ')}]`
          )
    const ipHash = createHash('sha256').update(uid).digest()
    const status: Obj = {
      phase,
      conditions: [
        cond('PodReadyToStartContainers', now >= t0 + TIMING.pullMs, t0),
        cond('Initialized', true, t0),
        { ...readyCond },
        { ...readyCond, type: 'ContainersReady' },
        cond('PodScheduled', true, t0)
      ],
      hostIP: '10.0.0.10',
      hostIPs: [{ ip: '10.0.0.10' }],
      ...(anyRunning || terminal ? { podIP: `10.0.${ipHash[0]}.${(ipHash[1]! % 253) + 1}` } : {}),
      startTime: this.iso(t0),
      containerStatuses: statuses,
      qosClass: 'BestEffort'
    }
    return {
      status,
      events,
      ready: allReady && !terminal,
      readyAt: allReady ? readyAt : undefined,
      phase
    }
  }

  /** The kubelet's CreateContainerConfigError message for missing ConfigMap/Secret references. */
  private configError(pod: Obj, c: Obj): string | undefined {
    const ns = nsOf(pod) ?? 'default'
    const cmT = this.t('', 'configmaps')
    const secT = this.t('', 'secrets')
    const lookup = (
      kind: 'ConfigMap' | 'Secret',
      ref: unknown,
      key?: string
    ): string | undefined => {
      if (!isObj(ref) || ref.optional === true) return undefined
      const name = str(ref.name)
      const o = this.c.store.get(kind === 'ConfigMap' ? cmT : secT, ns, name)
      if (!o) return `${kind.toLowerCase()} "${name}" not found`
      if (key !== undefined) {
        const data = {
          ...((o.data as Obj | undefined) ?? {}),
          ...((o.binaryData as Obj | undefined) ?? {})
        }
        if (!(key in data)) return `couldn't find key ${key} in ${kind} ${ns}/${name}`
      }
      return undefined
    }
    for (const e of ((c.env as Obj[] | undefined) ?? []).filter(isObj)) {
      const vf = e.valueFrom
      if (!isObj(vf)) continue
      const err =
        lookup(
          'ConfigMap',
          vf.configMapKeyRef,
          isObj(vf.configMapKeyRef) ? str(vf.configMapKeyRef.key) : undefined
        ) ??
        lookup(
          'Secret',
          vf.secretKeyRef,
          isObj(vf.secretKeyRef) ? str(vf.secretKeyRef.key) : undefined
        )
      if (err) return err
    }
    for (const e of ((c.envFrom as Obj[] | undefined) ?? []).filter(isObj)) {
      const err = lookup('ConfigMap', e.configMapRef) ?? lookup('Secret', e.secretRef)
      if (err) return err
    }
    return undefined
  }

  private kubelet(): void {
    const pt = this.t('', 'pods')
    for (const pod of this.c.store.list(pt)) {
      const v = this.podView(pod)
      const next = clone(pod)
      next.status = v.status
      this.save(pt, next)
      for (const e of v.events) {
        if (e.at > this.now()) continue
        this.event(pod, 'Pod', e.type, e.reason, e.message, e.component, {
          key: e.key,
          count: e.count,
          at: e.at,
          fieldPath: e.fieldPath
        })
      }
    }
  }

  private podsOf(owner: Obj): Obj[] {
    return this.c.store
      .list(this.t('', 'pods'), nsOf(owner))
      .filter((p) => ownedBy(p, meta(owner).uid))
  }

  private available(pod: Obj, minReadySeconds: number): boolean {
    const v = this.podView(pod)
    return v.ready && v.readyAt !== undefined && v.readyAt + minReadySeconds * 1000 <= this.now()
  }

  // ---- ReplicaSets --------------------------------------------------------------------------

  private replicaSetStatus(): void {
    const rt = this.t('apps', 'replicasets')
    for (const rs of this.c.store.list(rt)) {
      const spec = (rs.spec ?? {}) as Obj
      const pods = this.podsOf(rs).filter(
        (p) => !['Succeeded', 'Failed'].includes(this.podView(p).phase)
      )
      const tplLabels = ((spec.template as Obj | undefined)?.metadata as Obj | undefined)
        ?.labels as Record<string, string> | undefined
      const next = clone(rs)
      next.status = {
        replicas: pods.length,
        fullyLabeledReplicas: pods.filter((p) =>
          Object.entries(tplLabels ?? {}).every(([k, v]) => labelsOf(p)[k] === v)
        ).length,
        readyReplicas: pods.filter((p) => this.podView(p).ready).length,
        availableReplicas: pods.filter((p) => this.available(p, Number(spec.minReadySeconds ?? 0)))
          .length,
        observedGeneration: meta(rs).generation
      }
      this.save(rt, next)
    }
  }

  private replicaSets(): void {
    const rt = this.t('apps', 'replicasets')
    const pt = this.t('', 'pods')
    for (const rs of this.c.store.list(rt)) {
      const spec = (rs.spec ?? {}) as Obj
      const want = Number(spec.replicas ?? 1)
      const pods = this.podsOf(rs).filter(
        (p) => !['Succeeded', 'Failed'].includes(this.podView(p).phase)
      )
      if (pods.length < want) {
        for (let i = pods.length; i < want; i++) {
          const tpl = clone((spec.template ?? {}) as Obj)
          const tm = (tpl.metadata ?? {}) as Obj
          this.createChild(
            pt,
            {
              metadata: {
                ...tm,
                name: `${nameOf(rs)}-${suffix()}`,
                generateName: `${nameOf(rs)}-`
              },
              spec: tpl.spec ?? {}
            },
            rs,
            rt
          )
        }
      } else if (pods.length > want) {
        const rank = (p: Obj): number => {
          const v = this.podView(p)
          return v.phase === 'Pending' ? 0 : v.ready ? 2 : 1
        }
        const victims = [...pods].sort(
          (a, b) =>
            rank(a) - rank(b) || ms(meta(b).creationTimestamp) - ms(meta(a).creationTimestamp)
        )
        for (const p of victims.slice(0, pods.length - want)) this.deletePod(p, rs, 'ReplicaSet')
      }
    }
  }

  // ---- Deployments ------------------------------------------------------------------------

  private deployments(): void {
    const dt = this.t('apps', 'deployments')
    const rt = this.t('apps', 'replicasets')
    for (const d of this.c.store.list(dt)) {
      const spec = (d.spec ?? {}) as Obj
      const desired = Number(spec.replicas ?? 1)
      const template = (spec.template ?? {}) as Obj
      const hash = hashOf(template)
      const all = this.c.store.list(rt, nsOf(d)).filter((rs) => ownedBy(rs, meta(d).uid))
      const rev = (rs: Obj): number =>
        Number(
          (meta(rs).annotations as Obj | undefined)?.['deployment.kubernetes.io/revision'] ?? 0
        )
      let newRS = all.find((rs) => labelsOf(rs)['pod-template-hash'] === hash)
      const maxRev = Math.max(0, ...all.map(rev))
      let progressReason: string | undefined
      let progressMsg = ''
      const ru = ((spec.strategy as Obj | undefined)?.rollingUpdate ?? {}) as Obj
      const recreate = (spec.strategy as Obj | undefined)?.type === 'Recreate'
      const maxSurge = recreate ? 0 : intOrPercent(ru.maxSurge ?? '25%', desired, true)
      let maxUnavailable = recreate
        ? desired
        : intOrPercent(ru.maxUnavailable ?? '25%', desired, false)
      if (!recreate && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1
      if (maxUnavailable > desired) maxUnavailable = desired
      void maxSurge
      if (!spec.paused) {
        if (!newRS) {
          const name = `${nameOf(d)}-${hash}`
          const tm = clone((template.metadata ?? {}) as Obj)
          tm.labels = { ...(tm.labels ?? {}), 'pod-template-hash': hash }
          const sel = clone((spec.selector ?? {}) as Obj)
          sel.matchLabels = {
            ...(sel.matchLabels ?? {}),
            'pod-template-hash': hash
          }
          newRS = this.createChild(
            rt,
            {
              metadata: {
                name,
                labels: tm.labels,
                annotations: {
                  'deployment.kubernetes.io/desired-replicas': String(desired),
                  'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
                  'deployment.kubernetes.io/revision': String(maxRev + 1)
                }
              },
              spec: {
                replicas: 0,
                minReadySeconds: spec.minReadySeconds ?? 0,
                selector: sel,
                template: { ...clone(template), metadata: tm }
              },
              status: { replicas: 0 }
            },
            d,
            dt
          )
          progressReason = 'NewReplicaSetCreated'
          progressMsg = `Created new replica set "${name}"`
        } else if (rev(newRS) < maxRev) {
          // rollback to an older template: it becomes the newest revision
          const upd = clone(newRS)
          const ann = (meta(upd).annotations ?? {}) as Obj
          const history = [ann['deployment.kubernetes.io/revision-history'], String(rev(newRS))]
            .filter(Boolean)
            .join(',')
          meta(upd).annotations = {
            ...ann,
            'deployment.kubernetes.io/revision': String(maxRev + 1),
            'deployment.kubernetes.io/revision-history': history
          }
          newRS = this.save(rt, upd)
          progressReason = 'FoundNewReplicaSet'
          progressMsg = `Found new replica set "${nameOf(newRS)}"`
        }
        const olds = all
          .filter((rs) => nameOf(rs) !== nameOf(newRS!))
          .sort((a, b) => ms(meta(a).creationTimestamp) - ms(meta(b).creationTimestamp))
        const replicasOf = (rs: Obj): number => Number((rs.spec as Obj).replicas ?? 0)
        const statusOf = (rs: Obj, k: string): number => Number(((rs.status ?? {}) as Obj)[k] ?? 0)
        const scale = (rs: Obj, to: number): void => {
          const from = replicasOf(rs)
          if (from === to) return
          const upd = clone(rs)
          ;(upd.spec as Obj).replicas = to
          meta(upd).annotations = {
            ...(meta(upd).annotations ?? {}),
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + maxSurge)
          }
          this.save(rt, upd)
          ;(rs.spec as Obj).replicas = to
          this.event(
            d,
            'Deployment',
            'Normal',
            'ScalingReplicaSet',
            `Scaled ${to > from ? 'up' : 'down'} replica set ${nameOf(rs)} from ${from} to ${to}`,
            'deployment-controller'
          )
        }
        const oldCount = (): number => olds.reduce((s, rs) => s + replicasOf(rs), 0)
        if (recreate) {
          for (const rs of olds) scale(rs, 0)
          const oldPods = olds.reduce((s, rs) => s + this.podsOf(rs).length, 0)
          if (oldPods === 0) scale(newRS, desired)
        } else {
          // scale up the new ReplicaSet within maxSurge
          const allCount = replicasOf(newRS) + oldCount()
          if (replicasOf(newRS) > desired) scale(newRS, desired)
          else if (replicasOf(newRS) < desired) {
            const room = desired + maxSurge - allCount
            if (room > 0) scale(newRS, Math.min(desired, replicasOf(newRS) + room))
          }
          // scale down old ReplicaSets within maxUnavailable
          if (oldCount() > 0) {
            const allPods = replicasOf(newRS) + oldCount()
            const minAvailable = desired - maxUnavailable
            const newUnavailable = replicasOf(newRS) - statusOf(newRS, 'availableReplicas')
            const maxScaledDown = allPods - minAvailable - newUnavailable
            if (maxScaledDown > 0) {
              let done = 0
              for (const rs of olds) {
                if (done >= maxScaledDown) break
                const unhealthy = replicasOf(rs) - statusOf(rs, 'availableReplicas')
                if (replicasOf(rs) === 0 || unhealthy <= 0) continue
                const n = Math.min(maxScaledDown - done, unhealthy)
                scale(rs, replicasOf(rs) - n)
                done += n
              }
              const availableAll = [newRS, ...olds].reduce(
                (s, rs) => s + statusOf(rs, 'availableReplicas'),
                0
              )
              let budget = availableAll - minAvailable
              for (const rs of olds) {
                if (budget <= 0) break
                const n = Math.min(replicasOf(rs), budget)
                if (n > 0) scale(rs, replicasOf(rs) - n)
                budget -= n
              }
            }
          }
        }
        // revision history limit
        const limit = Number(spec.revisionHistoryLimit ?? 10)
        const idle = olds
          .filter((rs) => replicasOf(rs) === 0 && statusOf(rs, 'replicas') === 0)
          .sort((a, b) => rev(a) - rev(b))
        for (const rs of idle.slice(0, Math.max(0, idle.length - limit)))
          this.c.store.remove(rt, nsOf(rs), nameOf(rs))
      }
      this.deploymentStatus(d, newRS, progressReason, progressMsg, maxUnavailable)
    }
  }

  private deploymentStatus(
    d: Obj,
    newRS: Obj | undefined,
    progressReason: string | undefined,
    progressMsg: string,
    maxUnavailable: number
  ): void {
    const dt = this.t('apps', 'deployments')
    const rt = this.t('apps', 'replicasets')
    const cur = this.c.store.get(dt, nsOf(d), nameOf(d))
    if (!cur) return
    const spec = (cur.spec ?? {}) as Obj
    const desired = Number(spec.replicas ?? 1)
    const all = this.c.store.list(rt, nsOf(cur)).filter((rs) => ownedBy(rs, meta(cur).uid))
    const freshNew = newRS ? all.find((rs) => nameOf(rs) === nameOf(newRS)) : undefined
    const sum = (k: string): number =>
      all.reduce((s, rs) => s + Number(((rs.status ?? {}) as Obj)[k] ?? 0), 0)
    const old = (cur.status ?? {}) as Obj
    const now = this.now()
    const nowIso = this.iso(now)
    const st: Obj = {
      observedGeneration: meta(cur).generation,
      replicas: sum('replicas'),
      updatedReplicas: Number(((freshNew?.status ?? {}) as Obj).replicas ?? 0),
      readyReplicas: sum('readyReplicas'),
      availableReplicas: sum('availableReplicas')
    }
    st.unavailableReplicas = Math.max(0, desired - Number(st.availableReplicas))
    const oldConds = ((old.conditions as Obj[] | undefined) ?? []).filter(isObj)
    const prev = (type: string): Obj | undefined => oldConds.find((c) => c.type === type)
    const mk = (
      type: string,
      status: string,
      reason: string,
      message: string,
      keepTransition = true
    ): Obj => {
      const p = prev(type)
      return {
        type,
        status,
        lastUpdateTime:
          p && p.status === status && p.reason === reason && p.message === message
            ? p.lastUpdateTime
            : nowIso,
        lastTransitionTime:
          p && p.status === status && keepTransition ? p.lastTransitionTime : nowIso,
        reason,
        message
      }
    }
    const available = mk(
      'Available',
      Number(st.availableReplicas) >= desired - maxUnavailable ? 'True' : 'False',
      Number(st.availableReplicas) >= desired - maxUnavailable
        ? 'MinimumReplicasAvailable'
        : 'MinimumReplicasUnavailable',
      Number(st.availableReplicas) >= desired - maxUnavailable
        ? 'Deployment has minimum availability.'
        : 'Deployment does not have minimum availability.'
    )
    let progressing: Obj
    const rsName = freshNew ? nameOf(freshNew) : ''
    const complete =
      Number(st.updatedReplicas) === desired &&
      Number(st.replicas) === desired &&
      Number(st.availableReplicas) === desired &&
      Number(st.observedGeneration) >= Number(meta(cur).generation)
    const p = prev('Progressing')
    const oldOldReplicas = Number(old.replicas ?? 0) - Number(old.updatedReplicas ?? 0)
    const newOldReplicas = Number(st.replicas) - Number(st.updatedReplicas)
    const progressed =
      progressReason !== undefined ||
      Number(st.updatedReplicas) > Number(old.updatedReplicas ?? 0) ||
      newOldReplicas < oldOldReplicas ||
      Number(st.readyReplicas) > Number(old.readyReplicas ?? 0) ||
      Number(st.availableReplicas) > Number(old.availableReplicas ?? 0)
    if (spec.paused)
      progressing = mk('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused')
    else if (complete)
      progressing = mk(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${rsName}" has successfully progressed.`
      )
    else if (progressReason)
      progressing = {
        ...mk('Progressing', 'True', progressReason, progressMsg),
        lastUpdateTime: nowIso
      }
    else if (
      progressed ||
      !p ||
      p.reason === 'DeploymentPaused' ||
      p.reason === 'DeploymentResumed'
    )
      progressing = {
        ...mk(
          'Progressing',
          'True',
          p?.reason === 'DeploymentPaused' ? 'DeploymentResumed' : 'ReplicaSetUpdated',
          p?.reason === 'DeploymentPaused'
            ? 'Deployment is resumed'
            : `ReplicaSet "${rsName}" is progressing.`
        ),
        lastUpdateTime: nowIso
      }
    else if (p.reason === 'ProgressDeadlineExceeded') progressing = p
    else {
      const deadline = Number(spec.progressDeadlineSeconds ?? 600)
      const since = ms(p.lastUpdateTime)
      if (p.reason !== 'NewReplicaSetAvailable' && since + deadline * 1000 < now) {
        progressing = mk(
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${rsName}" has timed out progressing.`
        )
        this.event(
          cur,
          'Deployment',
          'Warning',
          'ProgressDeadlineExceeded',
          `Deployment "${nameOf(cur)}" has timed out progressing`,
          'deployment-controller',
          { key: `deadline|${rsName}` }
        )
      } else if (p.reason === 'NewReplicaSetAvailable')
        progressing = {
          ...mk(
            'Progressing',
            'True',
            'ReplicaSetUpdated',
            `ReplicaSet "${rsName}" is progressing.`
          ),
          lastUpdateTime: nowIso
        }
      else progressing = p
    }
    st.conditions = [available, progressing]
    const next = clone(cur)
    next.status = st
    if (JSON.stringify(cur.status) !== JSON.stringify(st)) this.c.store.put(dt, next)
  }

  // ---- HPA ----------------------------------------------------------------------------------

  private hpas(): void {
    const ht = this.t('autoscaling', 'horizontalpodautoscalers')
    for (const h of this.c.store.list(ht)) {
      const spec = (h.spec ?? {}) as Obj
      const ref = (spec.scaleTargetRef ?? {}) as Obj
      const kind = String(ref.kind)
      const tt =
        kind === 'Deployment'
          ? this.t('apps', 'deployments')
          : kind === 'StatefulSet'
            ? this.t('apps', 'statefulsets')
            : kind === 'ReplicaSet'
              ? this.t('apps', 'replicasets')
              : undefined
      const target = tt ? this.c.store.get(tt, nsOf(h), String(ref.name)) : undefined
      const nextH = clone(h)
      if (!tt || !target) {
        nextH.status = {
          currentReplicas: 0,
          desiredReplicas: 0,
          conditions: [
            {
              type: 'AbleToScale',
              status: 'False',
              reason: 'FailedGetScale',
              message: `the HPA controller was unable to get the target's current scale: ${String(kind).toLowerCase()}s "${String(ref.name)}" not found`,
              lastTransitionTime: this.iso(this.now())
            }
          ]
        }
        this.save(ht, nextH)
        continue
      }
      const current = Number((target.spec as Obj).replicas ?? 1)
      const min = Number(spec.minReplicas ?? 1)
      const max = Number(spec.maxReplicas ?? current)
      const override = this.hpaDesired.get(`${nsOf(h) ?? ''}/${nameOf(h)}`)
      const desired = Math.min(max, Math.max(min, override ?? current))
      if (desired !== current) {
        const upd = clone(target)
        ;(upd.spec as Obj).replicas = desired
        this.c.commitUpdate(tt, target, upd, MANAGER, 'scale', false)
        this.event(
          h,
          'HorizontalPodAutoscaler',
          'Normal',
          'SuccessfulRescale',
          `New size: ${desired}; reason: ${override !== undefined ? 'cpu resource utilization (percentage of request) above target' : desired > current ? 'Current number of replicas below Spec.MinReplicas' : 'Current number of replicas above Spec.MaxReplicas'}`,
          'horizontal-pod-autoscaler',
          { key: `rescale|${desired}|${this.now()}` }
        )
      }
      const old = (h.status ?? {}) as Obj
      nextH.status = {
        ...(old.lastScaleTime || desired !== current
          ? { lastScaleTime: desired !== current ? this.iso(this.now()) : old.lastScaleTime }
          : {}),
        currentReplicas: Number(((target.status ?? {}) as Obj).replicas ?? current),
        desiredReplicas: desired,
        currentMetrics: null,
        conditions: [
          {
            type: 'AbleToScale',
            status: 'True',
            reason: 'ReadyForNewScale',
            message: 'recommended size matches current size',
            lastTransitionTime: this.iso(ms(meta(h).creationTimestamp))
          },
          {
            type: 'ScalingActive',
            status: 'True',
            reason: 'ValidMetricFound',
            message: 'the HPA was able to successfully calculate a replica count',
            lastTransitionTime: this.iso(ms(meta(h).creationTimestamp))
          }
        ]
      }
      this.save(ht, nextH)
    }
  }

  // ---- StatefulSets ---------------------------------------------------------------------------

  private statefulSets(): void {
    const st = this.t('apps', 'statefulsets')
    const pt = this.t('', 'pods')
    for (const s of this.c.store.list(st)) {
      const spec = (s.spec ?? {}) as Obj
      const replicas = Number(spec.replicas ?? 1)
      const template = (spec.template ?? {}) as Obj
      const updateRevision = `${nameOf(s)}-${hashOf(template)}`
      this.revisions.set(`${String(meta(s).uid)}/${updateRevision}`, clone(template))
      const status = (s.status ?? {}) as Obj
      let currentRevision = str(status.currentRevision ?? updateRevision)
      const us = (spec.updateStrategy ?? {}) as Obj
      const onDelete = us.type === 'OnDelete'
      const partition = Number(((us.rollingUpdate ?? {}) as Obj).partition ?? 0)
      const parallel = spec.podManagementPolicy === 'Parallel'
      const pods = new Map(
        this.podsOf(s).map((p) => [Number(nameOf(p).slice(nameOf(s).length + 1)), p])
      )
      const revOf = (p: Obj): string => labelsOf(p)['controller-revision-hash'] ?? ''
      const ready = (p: Obj | undefined): boolean => !!p && this.podView(p).ready
      // create missing ordinals
      for (let i = 0; i < replicas; i++) {
        if (pods.has(i)) {
          if (!parallel && !ready(pods.get(i))) break
          continue
        }
        const rev = onDelete || i < partition ? currentRevision : updateRevision
        const tpl = clone(this.revisions.get(`${String(meta(s).uid)}/${rev}`) ?? template)
        const tm = (tpl.metadata ?? {}) as Obj
        const pod = this.createChild(
          pt,
          {
            metadata: {
              ...tm,
              name: `${nameOf(s)}-${i}`,
              labels: {
                ...((tm.labels as Obj | undefined) ?? {}),
                'controller-revision-hash': rev,
                'statefulset.kubernetes.io/pod-name': `${nameOf(s)}-${i}`,
                'apps.kubernetes.io/pod-index': String(i)
              }
            },
            spec: {
              ...((tpl.spec ?? {}) as Obj),
              hostname: `${nameOf(s)}-${i}`,
              subdomain: spec.serviceName
            }
          },
          s,
          st
        )
        pods.set(i, pod)
        if (!parallel) break
      }
      // scale down: highest ordinal first
      for (const [i, p] of [...pods].sort((a, b) => b[0] - a[0])) {
        if (i < replicas) continue
        this.deletePod(p, s, 'StatefulSet')
        pods.delete(i)
        if (!parallel) break
      }
      // rolling update: highest ordinal ≥ partition with an old revision, once all are ready
      const allReady = [...pods.values()].every((p) => ready(p)) && pods.size === replicas
      if (!onDelete && allReady) {
        for (let i = replicas - 1; i >= partition; i--) {
          const p = pods.get(i)
          if (p && revOf(p) !== updateRevision) {
            this.deletePod(p, s, 'StatefulSet')
            pods.delete(i)
            break
          }
        }
      }
      const list = [...pods.values()]
      const updated = list.filter((p) => revOf(p) === updateRevision).length
      if (updated === replicas && list.length === replicas) currentRevision = updateRevision
      const next = clone(s)
      next.status = {
        observedGeneration: meta(s).generation,
        replicas: list.length,
        readyReplicas: list.filter((p) => ready(p)).length,
        availableReplicas: list.filter((p) => this.available(p, Number(spec.minReadySeconds ?? 0)))
          .length,
        currentReplicas: list.filter((p) => revOf(p) === currentRevision).length,
        updatedReplicas: updated,
        currentRevision,
        updateRevision,
        collisionCount: 0
      }
      this.save(st, next)
    }
  }

  // ---- DaemonSets --------------------------------------------------------------------------

  private daemonSets(): void {
    const dt = this.t('apps', 'daemonsets')
    const pt = this.t('', 'pods')
    const nodes = this.c.store.list(this.t('', 'nodes')).map((n) => nameOf(n))
    for (const ds of this.c.store.list(dt)) {
      const spec = (ds.spec ?? {}) as Obj
      const template = (spec.template ?? {}) as Obj
      const hash = hashOf(template)
      const onDelete = ((spec.updateStrategy ?? {}) as Obj).type === 'OnDelete'
      const maxUnavailable =
        intOrPercent(
          ((((spec.updateStrategy ?? {}) as Obj).rollingUpdate ?? {}) as Obj).maxUnavailable ?? 1,
          nodes.length,
          false
        ) || 1
      const pods = this.podsOf(ds)
      const byNode = new Map(pods.map((p) => [String((p.spec as Obj).nodeName), p]))
      for (const node of nodes) {
        if (byNode.has(node)) continue
        const tpl = clone(template)
        const tm = (tpl.metadata ?? {}) as Obj
        byNode.set(
          node,
          this.createChild(
            pt,
            {
              metadata: {
                ...tm,
                name: `${nameOf(ds)}-${suffix()}`,
                labels: {
                  ...((tm.labels as Obj | undefined) ?? {}),
                  'controller-revision-hash': hash,
                  'pod-template-generation': String(meta(ds).generation)
                }
              },
              spec: { ...((tpl.spec ?? {}) as Obj), nodeName: node }
            },
            ds,
            dt
          )
        )
      }
      const revOf = (p: Obj): string => labelsOf(p)['controller-revision-hash'] ?? ''
      if (!onDelete) {
        const unavailable = [...byNode.values()].filter((p) => !this.podView(p).ready).length
        let budget = maxUnavailable - unavailable
        for (const [node, p] of byNode) {
          if (budget <= 0) break
          if (revOf(p) !== hash) {
            this.deletePod(p, ds, 'DaemonSet')
            byNode.delete(node)
            budget--
          }
        }
      }
      const list = [...byNode.values()]
      const next = clone(ds)
      const ready = list.filter((p) => this.podView(p).ready).length
      const avail = list.filter((p) => this.available(p, Number(spec.minReadySeconds ?? 0))).length
      next.status = {
        currentNumberScheduled: list.length,
        desiredNumberScheduled: nodes.length,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: avail,
        numberUnavailable: Math.max(0, nodes.length - avail),
        updatedNumberScheduled: list.filter((p) => revOf(p) === hash).length,
        observedGeneration: meta(ds).generation
      }
      this.save(dt, next)
    }
  }

  // ---- Jobs ---------------------------------------------------------------------------------

  private jobs(): void {
    const jt = this.t('batch', 'jobs')
    const pt = this.t('', 'pods')
    for (const j of this.c.store.list(jt)) {
      const spec = (j.spec ?? {}) as Obj
      const status = (j.status ?? {}) as Obj
      const conds = ((status.conditions as Obj[] | undefined) ?? []).filter(isObj)
      if (conds.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'))
        continue
      const completions = Number(spec.completions ?? 1)
      const parallelism = Number(spec.parallelism ?? 1)
      const backoffLimit = Number(spec.backoffLimit ?? 6)
      const pods = this.podsOf(j)
      const views = pods.map((p) => ({ p, v: this.podView(p) }))
      const succeeded = views.filter((x) => x.v.phase === 'Succeeded').length
      const restarts = views.reduce(
        (s, x) =>
          s +
          ((x.v.status.containerStatuses as Obj[] | undefined) ?? []).reduce(
            (a, cs) => a + Number(cs.restartCount ?? 0),
            0
          ),
        0
      )
      const failed =
        views.filter((x) => x.v.phase === 'Failed').length +
        (String(((spec.template as Obj).spec as Obj).restartPolicy) === 'OnFailure' ? restarts : 0)
      let active = views.filter((x) => x.v.phase !== 'Succeeded' && x.v.phase !== 'Failed')
      const now = this.iso(this.now())
      const next = clone(j)
      const st: Obj = {
        startTime: status.startTime ?? now,
        active: 0,
        succeeded,
        failed,
        ready: active.filter((x) => x.v.ready).length,
        uncountedTerminatedPods: {}
      }
      if (spec.suspend === true) {
        st.conditions = [
          {
            type: 'Suspended',
            status: 'True',
            reason: 'JobSuspended',
            message: 'Job suspended',
            lastProbeTime: now,
            lastTransitionTime: now
          }
        ]
      } else if (succeeded >= completions) {
        st.completionTime = now
        st.conditions = [
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastProbeTime: now,
            lastTransitionTime: now
          },
          {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastProbeTime: now,
            lastTransitionTime: now
          }
        ]
        this.event(j, 'Job', 'Normal', 'Completed', 'Job completed', 'job-controller')
      } else if (failed > backoffLimit) {
        for (const x of active) this.deletePod(x.p, j, 'Job')
        active = []
        st.conditions = [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastProbeTime: now,
            lastTransitionTime: now
          },
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastProbeTime: now,
            lastTransitionTime: now
          }
        ]
        this.event(
          j,
          'Job',
          'Warning',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
          'job-controller'
        )
      } else {
        const want = Math.min(parallelism, completions - succeeded) - active.length
        for (let i = 0; i < want; i++) {
          const tpl = clone((spec.template ?? {}) as Obj)
          const tm = (tpl.metadata ?? {}) as Obj
          const pod = this.createChild(
            pt,
            { metadata: { ...tm, name: `${nameOf(j)}-${suffix()}` }, spec: tpl.spec ?? {} },
            j,
            jt
          )
          active.push({ p: pod, v: this.podView(pod) })
        }
      }
      st.active = active.length
      next.status = st
      this.save(jt, next)
    }
  }
}

export { selectorMatches }
