/**
 * The Kubernetes API simulators of the stack: one API server per seeded EKS cluster (started by
 * `/_sim/eks/seed` when a cluster is seeded without an `endpoint`), sharing one generated CA, plus the
 * admin API under `/_sim/kube/…`.
 */
import { isObj, type Obj, str } from './fields.js'
import { KubeCluster, type ImageRule } from './cluster.js'
import type { ClusterAuthView } from './auth.js'
import { generateTls, type TlsMaterial } from './tls.js'
import { apiVersionOf } from './resources.js'
import { TIMING } from './controllers.js'
import type { SimServer } from '../core/server.js'
import type { Clock, RegistryView } from '../core/types.js'
import { AwsError } from '../core/types.js'

export { KubeCluster, type ImageRule } from './cluster.js'
export { TIMING } from './controllers.js'

export interface KubeSimDeps {
  clock: Clock
  sim: SimServer
  registry: RegistryView
  /** false: plain HTTP even when openssl is available */
  tls?: boolean
}

export class KubeSim {
  readonly clusters = new Map<string, KubeCluster>()
  private tlsMaterial: TlsMaterial | undefined | null = null
  imageRules: ImageRule[] = []

  constructor(private readonly deps: KubeSimDeps) {
    this.mountAdmin()
  }

  /** The stack's CA + server certificate (generated once, lazily); undefined = plain HTTP. */
  tls(): TlsMaterial | undefined {
    if (this.tlsMaterial === null)
      this.tlsMaterial = this.deps.tls === false ? undefined : generateTls('shipline-sim-eks')
    return this.tlsMaterial
  }

  /** Starts (or returns) the API server of an EKS cluster. */
  async start(
    name: string,
    version: string,
    auth: () => ClusterAuthView | undefined
  ): Promise<{ endpoint: string; caData: string }> {
    let c = this.clusters.get(name)
    if (!c) {
      c = new KubeCluster({
        name,
        clock: this.deps.clock,
        sim: this.deps.sim,
        registry: this.deps.registry,
        tls: this.tls(),
        auth,
        images: () => this.imageRules,
        version
      })
      await c.start()
      this.clusters.set(name, c)
    }
    const tls = this.tls()
    return { endpoint: c.endpoint, caData: tls ? Buffer.from(tls.caPem).toString('base64') : '' }
  }

  cluster(name: string): KubeCluster {
    const c = this.clusters.get(name)
    if (!c)
      throw new AwsError(
        'NotFound',
        `no Kubernetes API simulator for cluster "${name}" (seed it through /_sim/eks/seed without an endpoint)`,
        404
      )
    return c
  }

  async stop(): Promise<void> {
    for (const c of this.clusters.values()) await c.stop()
    this.clusters.clear()
  }

  private pick(body: Obj, q: URLSearchParams): KubeCluster {
    const name =
      (body.cluster as string | undefined) ??
      q.get('cluster') ??
      (this.clusters.size === 1 ? [...this.clusters.keys()][0] : undefined)
    if (!name) throw new AwsError('ValidationException', 'cluster is required')
    return this.cluster(name)
  }

  private mountAdmin(): void {
    const a = (path: string, h: (body: Obj, q: URLSearchParams, method: string) => unknown): void =>
      this.deps.sim.addAdmin(`kube/${path}`, h)
    a('clusters', () => {
      const tls = this.tls()
      return [...this.clusters.values()].map((c) => ({
        name: c.deps.name,
        endpoint: c.endpoint,
        caData: tls ? Buffer.from(tls.caPem).toString('base64') : '',
        tls: !!tls
      }))
    })
    a('images', (body, _q, method) => {
      if (method === 'DELETE') {
        this.imageRules = []
      } else if (Array.isArray(body.images)) {
        for (const i of body.images as unknown[]) {
          const rule: ImageRule = typeof i === 'string' ? { image: i } : (i as ImageRule)
          if (!rule || typeof rule.image !== 'string')
            throw new AwsError(
              'ValidationException',
              'images: each entry is a reference or {image, exists, behaviour, exitCode, runSeconds}'
            )
          this.imageRules = [rule, ...this.imageRules.filter((r) => r.image !== rule.image)]
        }
      }
      for (const c of this.clusters.values()) c.controllers.clearImageCache()
      return { images: this.imageRules }
    })
    a('timing', (body) => {
      for (const [k, v] of Object.entries(body))
        if (k in TIMING && typeof v === 'number') (TIMING as Record<string, number>)[k] = v
      return { ...TIMING }
    })
    a('objects', (body, q) => {
      const c = this.pick(body, q)
      const manager = typeof body.manager === 'string' ? body.manager : 'shipline-sim-admin'
      const operation = body.operation === 'Apply' ? 'Apply' : 'Update'
      const out: Obj[] = []
      for (const o of (body.objects as unknown[] | undefined) ?? []) {
        if (!isObj(o))
          throw new AwsError('ValidationException', 'objects must be Kubernetes objects')
        out.push(c.adminWrite(o, manager, operation))
      }
      return { objects: out }
    })
    a('object', (body, q, method) => {
      const c = this.pick(body, q)
      const apiVersion = str(body.apiVersion ?? q.get('apiVersion') ?? 'v1')
      const kind = str(body.kind ?? q.get('kind') ?? '')
      const t = c.typeOfKind(apiVersion, kind)
      if (!t) throw new AwsError('ValidationException', `unknown kind ${apiVersion} ${kind}`)
      const ns =
        (body.namespace as string | undefined) ??
        q.get('namespace') ??
        (t.namespaced ? 'default' : undefined)
      const name = str(body.name ?? q.get('name') ?? '')
      const o = c.store.get(t, ns, name)
      if (!o) throw new AwsError('NotFound', `${kind} ${ns ?? ''}/${name} not found`, 404)
      if (method === 'DELETE') {
        c.deleteObject(t, o, false)
        return { deleted: true }
      }
      return o
    })
    a('list', (body, q) => {
      const c = this.pick(body, q)
      c.reconcile()
      const apiVersion = str(body.apiVersion ?? q.get('apiVersion') ?? 'v1')
      const kind = str(body.kind ?? q.get('kind') ?? '')
      const t = c.typeOfKind(apiVersion, kind)
      if (!t) throw new AwsError('ValidationException', `unknown kind ${apiVersion} ${kind}`)
      return c.store.list(
        t,
        (body.namespace as string | undefined) ?? q.get('namespace') ?? undefined
      )
    })
    a('hpa-scale', (body, q) => {
      const c = this.pick(body, q)
      const key = `${str(body.namespace ?? 'default')}/${str(body.name)}`
      if (typeof body.replicas === 'number') c.controllers.hpaDesired.set(key, body.replicas)
      else c.controllers.hpaDesired.delete(key)
      c.reconcile()
      return { ok: true }
    })
    a('drop-watches', (body, q) => {
      const mode = body.mode === 'reset' ? 'reset' : 'close'
      const targets =
        body.cluster || q.get('cluster') ? [this.pick(body, q)] : [...this.clusters.values()]
      return { dropped: targets.reduce((n, c) => n + c.dropWatches(mode), 0) }
    })
    a('compact', (body, q) => {
      const c = this.pick(body, q)
      c.store.compact()
      return { resourceVersion: String(c.store.rv) }
    })
    a('requests', (body, q) => {
      const cluster = (body.cluster as string | undefined) ?? q.get('cluster') ?? undefined
      const mutating = (body.mutating ?? q.get('mutating')) as unknown
      return this.deps.sim
        .requestLog({ service: 'kube', kind: cluster ? `kube:${cluster}` : 'kube:' })
        .filter(
          (e) =>
            mutating === undefined ||
            mutating === null ||
            str((e.params as Obj).mutating) === str(mutating)
        )
    })
    void apiVersionOf
  }
}
