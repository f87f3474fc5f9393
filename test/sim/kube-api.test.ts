/**
 * The Kubernetes API simulator through @kubernetes/client-node 2.x and raw HTTPS: EKS token
 * authentication and access entries, discovery, CRUD, list/watch, server-side apply with field managers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { KubeConfig, KubernetesObject, V1Deployment } from '@kubernetes/client-node'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import {
  ADMIN_POLICY,
  VIEW_POLICY,
  at,
  assumeRole,
  eksToken,
  kubeConfig,
  kubeFetch,
  loadK8s,
  seedCluster,
  type Creds,
  type K8sModule,
  type SeededCluster
} from './kube-helpers.js'

let stack: SimStack
let k8s: K8sModule
let cluster: SeededCluster
let creds: Creds
let token: string
let kc: KubeConfig

const ACCOUNT = '123456789012'
const VIEWER = `arn:aws:iam::${ACCOUNT}:role/viewer`
const NOBODY = `arn:aws:iam::${ACCOUNT}:role/nobody`

function deployment(
  name: string,
  image: string,
  extra: Record<string, unknown> = {}
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] }
      },
      ...extra
    }
  }
}

beforeAll(async () => {
  k8s = await loadK8s()
  stack = await startStack({ registry: false })
  await stack.admin.post('sts/roles', {
    roleArn: VIEWER,
    trust: { sub: ['repo:*'], aud: 'sts.amazonaws.com' }
  })
  await stack.admin.post('sts/roles', {
    roleArn: NOBODY,
    trust: { sub: ['repo:*'], aud: 'sts.amazonaws.com' }
  })
  cluster = await seedCluster(
    stack,
    'api',
    [
      { principalArn: stack.roleArn, policies: [{ policyArn: ADMIN_POLICY }] },
      { principalArn: VIEWER, policies: [{ policyArn: VIEW_POLICY }] }
    ],
    { authenticationMode: 'API' }
  )
  await stack.admin.post('kube/images', { images: ['nginx:1.27', 'nginx:1.28'] })
  creds = await assumeRole(stack)
  token = await eksToken(creds, 'api')
  kc = kubeConfig(k8s, cluster, token)
})
afterAll(async () => stack?.stop())

describe('EKS authentication', () => {
  it('serves TLS with the CA returned by DescribeCluster and accepts a valid token', async () => {
    expect(cluster.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(Buffer.from(cluster.caData, 'base64').toString()).toContain('BEGIN CERTIFICATE')
    const res = await kubeFetch(cluster, token, '/api/v1/namespaces/default')
    expect(res.status).toBe(200)
    // a URL presigned against the simulator's own STS endpoint (AWS_ENDPOINT_URL) is accepted too
    const local = await eksToken(creds, 'api', { host: new URL(stack.endpoint).host })
    expect((await kubeFetch(cluster, local, '/api/v1/namespaces/default')).status).toBe(200)
    expect(at(res.body, 'metadata.name')).toBe('default')
  })

  it('401 with a Status body for a missing, malformed, foreign-cluster, unsigned-header, forged, too-long or foreign-host token', async () => {
    const cases = [
      undefined,
      'k8s-aws-v1.bm90LWEtdXJs',
      await eksToken(creds, 'other-cluster'),
      await eksToken(creds, 'api', { signHeader: false }),
      await eksToken({ ...creds, secretAccessKey: 'wrong' }, 'api'),
      await eksToken({ ...creds, sessionToken: 'forged' }, 'api'),
      await eksToken(creds, 'api', { expiresIn: 3600 }),
      await eksToken(creds, 'api', { host: 'sts.example.com' })
    ]
    for (const t of cases) {
      const res = await kubeFetch(cluster, t, '/api/v1/namespaces')
      expect(res.status).toBe(401)
      expect(res.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Unauthorized',
        code: 401
      })
    }
  })

  it('a token older than 15 minutes is rejected (401); a fresh one works again', async () => {
    const old = await eksToken(creds, 'api')
    stack.clock.advance(16 * 60 * 1000)
    expect((await kubeFetch(cluster, old, '/api/v1/namespaces')).status).toBe(401)
    const fresh = await eksToken(creds, 'api', { signingDate: new Date(stack.clock.now()) })
    expect((await kubeFetch(cluster, fresh, '/api/v1/namespaces')).status).toBe(200)
    token = fresh
    kc = kubeConfig(k8s, cluster, token)
  })

  it('a role without an access entry gets 401 (as on EKS); a view-only entry gets 403 on writes', async () => {
    const now = new Date(stack.clock.now())
    const nobody = await eksToken(await assumeRole(stack, NOBODY), 'api', { signingDate: now })
    expect((await kubeFetch(cluster, nobody, '/api/v1/namespaces')).status).toBe(401)
    const viewer = await eksToken(await assumeRole(stack, VIEWER), 'api', { signingDate: now })
    expect((await kubeFetch(cluster, viewer, '/api/v1/namespaces/default/configmaps')).status).toBe(
      200
    )
    const denied = await kubeFetch(cluster, viewer, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }
    })
    expect(denied.status).toBe(403)
    expect(denied.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 })
    expect(denied.body.message).toContain(
      'cannot create resource "configmaps" in API group "" in the namespace "default"'
    )
  })

  it('CONFIG_MAP clusters map roles through aws-auth by role ARN without path', async () => {
    const cm = await seedCluster(stack, 'legacy', [], { authenticationMode: 'CONFIG_MAP' })
    const t = await eksToken(creds, 'legacy', { signingDate: new Date(stack.clock.now()) })
    expect((await kubeFetch(cm, t, '/api/v1/namespaces')).status).toBe(401)
    await stack.admin.post('kube/objects', {
      cluster: 'legacy',
      objects: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'aws-auth', namespace: 'kube-system' },
          data: {
            mapRoles: `- rolearn: ${stack.roleArn}\n  username: ci:{{SessionName}}\n  groups: [system:masters]\n`
          }
        }
      ]
    })
    expect((await kubeFetch(cm, t, '/api/v1/namespaces')).status).toBe(200)
  })
})

describe('discovery', () => {
  it('/version, /api, /apis and group resource lists', async () => {
    const v = await kubeFetch(cluster, token, '/version')
    expect(v.body).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\.33/) })
    expect((await kubeFetch(cluster, token, '/api')).body).toMatchObject({
      kind: 'APIVersions',
      versions: ['v1']
    })
    const apis = (await kubeFetch(cluster, token, '/apis')).body
    const groups = (apis.groups as Array<{ name: string }>).map((g) => g.name)
    expect(groups).toEqual(
      expect.arrayContaining(['apps', 'batch', 'autoscaling', 'apiextensions.k8s.io'])
    )
    for (const gv of [
      '/api/v1',
      '/apis/apps/v1',
      '/apis/batch/v1',
      '/apis/autoscaling/v2',
      '/apis/apiextensions.k8s.io/v1'
    ]) {
      const list = (await kubeFetch(cluster, token, gv)).body
      expect(list.kind).toBe('APIResourceList')
    }
    const apps = (await kubeFetch(cluster, token, '/apis/apps/v1')).body
    expect(apps.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'deployments', kind: 'Deployment', namespaced: true }),
        expect.objectContaining({ name: 'deployments/scale' })
      ])
    )
  })

  it('a CRD adds its group to discovery and its resources are served', async () => {
    const client = k8s.KubernetesObjectApi.makeApiClient(kc)
    await client.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object' } }
          }
        ]
      }
    } as KubernetesObject)
    const created = await client.create({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: 'default' },
      spec: { size: 3 }
    } as KubernetesObject)
    expect(created.metadata?.uid).toBeTruthy()
    const got = await kubeFetch(
      cluster,
      token,
      '/apis/example.com/v1/namespaces/default/widgets/w1'
    )
    expect(got.body.spec).toEqual({ size: 3 })
  })
})

describe('CRUD, list and errors', () => {
  it('creates, reads, updates, lists with resourceVersion and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'cfg', labels: { tier: 'a' } }, data: { a: '1' } }
    })
    expect(cm.metadata?.resourceVersion).toMatch(/^\d+$/)
    await expect(
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' } } })
    ).rejects.toMatchObject({ code: 409 })
    const list = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'tier=a'
    })
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['cfg'])
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(cm.metadata?.resourceVersion)
    )
    const stale = { ...cm, data: { a: '2' } }
    await core.replaceNamespacedConfigMap({ name: 'cfg', namespace: 'default', body: stale })
    await expect(
      core.replaceNamespacedConfigMap({
        name: 'cfg',
        namespace: 'default',
        body: { ...stale, data: { a: '3' } }
      })
    ).rejects.toMatchObject({ code: 409 })
    await core.deleteNamespacedConfigMap({ name: 'cfg', namespace: 'default' })
    const gone = await kubeFetch(cluster, token, '/api/v1/namespaces/default/configmaps/cfg')
    expect(gone.status).toBe(404)
    expect(gone.body).toMatchObject({
      reason: 'NotFound',
      message: 'configmaps "cfg" not found',
      details: { name: 'cfg', kind: 'configmaps' }
    })
  })

  it('a namespaced object in a missing namespace → 404; invalid objects → 422 with causes', async () => {
    const res = await kubeFetch(cluster, token, '/api/v1/namespaces/nope/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'x' } }
    })
    expect(res.status).toBe(404)
    expect(res.body.message).toBe('namespaces "nope" not found')
    const bad = deployment('bad', 'nginx:1.27')
    ;(bad.spec!.template.metadata as { labels: Record<string, string> }).labels = { app: 'other' }
    const inv = await kubeFetch(cluster, token, '/apis/apps/v1/namespaces/default/deployments', {
      method: 'POST',
      body: bad
    })
    expect(inv.status).toBe(422)
    expect(inv.body).toMatchObject({
      reason: 'Invalid',
      details: {
        kind: 'Deployment',
        causes: [expect.objectContaining({ field: 'spec.template.metadata.labels' })]
      }
    })
  })
})

describe('server-side apply', () => {
  const apply = async (
    obj: KubernetesObject,
    manager: string,
    opts: { force?: boolean; dryRun?: boolean } = {}
  ) => {
    const client = k8s.KubernetesObjectApi.makeApiClient(kc)
    return client.patch(
      obj,
      undefined,
      opts.dryRun ? 'All' : undefined,
      manager,
      opts.force,
      k8s.PatchStrategy.ServerSideApply
    )
  }

  it('creates with managedFields, bumps generation only on spec changes, dry-run persists nothing', async () => {
    const d = (await apply(deployment('web', 'nginx:1.27'), 'shipline')) as V1Deployment
    expect(d.metadata?.generation).toBe(1)
    const mf = d.metadata?.managedFields ?? []
    expect(mf).toEqual([
      expect.objectContaining({ manager: 'shipline', operation: 'Apply', apiVersion: 'apps/v1' })
    ])
    expect(JSON.stringify(mf[0]?.fieldsV1)).toContain('"f:replicas"')
    expect(JSON.stringify(mf[0]?.fieldsV1)).toContain('k:{\\"name\\":\\"app\\"}')
    const annotated = deployment('web', 'nginx:1.27')
    annotated.metadata!.annotations = { 'shipline.dev/sha': 'abc' }
    expect(((await apply(annotated, 'shipline')) as V1Deployment).metadata?.generation).toBe(1)
    const dry = (await apply(deployment('web', 'nginx:1.28'), 'shipline', {
      dryRun: true
    })) as V1Deployment
    expect(dry.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.28')
    const live = await kubeFetch(cluster, token, '/apis/apps/v1/namespaces/default/deployments/web')
    expect(at(live.body, 'spec.template.spec.containers.0.image')).toBe('nginx:1.27')
    expect(at(live.body, 'metadata.annotations')).toEqual({ 'shipline.dev/sha': 'abc' })
    const changed = (await apply(deployment('web', 'nginx:1.28'), 'shipline')) as V1Deployment
    expect(changed.metadata?.generation).toBe(2)
    // re-applying the same configuration is a no-op: same resourceVersion
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'same', namespace: 'default' },
      data: { time: '1' }
    }
    const first = await apply(cm, 'shipline')
    const again = await apply(cm, 'shipline')
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion)
    const next = await apply({ ...cm, data: { time: '2' } } as KubernetesObject, 'shipline')
    expect(next.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion)
    // fields the manager stops applying are removed
    expect(changed.metadata?.annotations?.['shipline.dev/sha']).toBeUndefined()
  })

  it('409 Conflict naming the other manager (kubectl-client-side-apply), force takes ownership', async () => {
    await stack.admin.post('kube/objects', {
      cluster: 'api',
      manager: 'kubectl-client-side-apply',
      objects: [deployment('csa', 'nginx:1.27')]
    })
    const err = await apply(deployment('csa', 'nginx:1.28'), 'shipline').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 409 })
    const raw = await kubeFetch(
      cluster,
      token,
      '/apis/apps/v1/namespaces/default/deployments/csa?fieldManager=shipline',
      {
        method: 'PATCH',
        contentType: 'application/apply-patch+yaml',
        body: deployment('csa', 'nginx:1.28')
      }
    )
    expect(raw.status).toBe(409)
    expect(raw.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 })
    expect(raw.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.template.spec.containers[name="app"].image'
    )
    expect(at(raw.body, 'details.causes')).toEqual([
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "kubectl-client-side-apply" using apps/v1',
        field: '.spec.template.spec.containers[name="app"].image'
      }
    ])
    // same values → shared ownership, no conflict
    expect(await apply(deployment('csa', 'nginx:1.27'), 'shipline')).toBeTruthy()
    const forced = (await apply(deployment('csa', 'nginx:1.28'), 'shipline', {
      force: true
    })) as V1Deployment
    expect(forced.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.28')
    const csa = forced.metadata?.managedFields?.find(
      (m) => m.manager === 'kubectl-client-side-apply'
    )
    expect(JSON.stringify(csa?.fieldsV1 ?? {})).not.toContain('f:image')
  })

  it('an HPA owning spec.replicas (kube-controller-manager, scale subresource) conflicts on replicas', async () => {
    await apply(deployment('scaled', 'nginx:1.27'), 'shipline')
    await apply(
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'scaled', namespace: 'default' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
          minReplicas: 3,
          maxReplicas: 5
        }
      } as KubernetesObject,
      'shipline'
    )
    const live = await kubeFetch(
      cluster,
      token,
      '/apis/apps/v1/namespaces/default/deployments/scaled'
    )
    expect(at(live.body, 'spec.replicas')).toBe(3)
    const err = (
      await kubeFetch(
        cluster,
        token,
        '/apis/apps/v1/namespaces/default/deployments/scaled?fieldManager=shipline',
        {
          method: 'PATCH',
          contentType: 'application/apply-patch+yaml',
          body: deployment('scaled', 'nginx:1.27')
        }
      )
    ).body
    expect(err.code).toBe(409)
    expect(err.message).toContain(
      'conflict with "kube-controller-manager" with subresource "scale" using apps/v1: .spec.replicas'
    )
    const noReplicas = deployment('scaled', 'nginx:1.28')
    delete noReplicas.spec!.replicas
    const ok = (await apply(noReplicas, 'shipline')) as V1Deployment
    expect(ok.spec?.replicas).toBe(3)
  })

  it('spec.selector is immutable (422 Invalid); apply needs a fieldManager (400)', async () => {
    const changed = deployment('web', 'nginx:1.28')
    changed.spec!.selector = { matchLabels: { app: 'web', track: 'x' } }
    ;(changed.spec!.template.metadata as { labels: Record<string, string> }).labels = {
      app: 'web',
      track: 'x'
    }
    const res = await kubeFetch(
      cluster,
      token,
      '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=shipline&force=true',
      {
        method: 'PATCH',
        contentType: 'application/apply-patch+yaml',
        body: changed
      }
    )
    expect(res.status).toBe(422)
    expect(res.body.reason).toBe('Invalid')
    expect(res.body.message).toMatch(
      /^Deployment\.apps "web" is invalid: spec\.selector: Invalid value: .*field is immutable$/
    )
    const noManager = await kubeFetch(
      cluster,
      token,
      '/apis/apps/v1/namespaces/default/deployments/web',
      {
        method: 'PATCH',
        contentType: 'application/apply-patch+yaml',
        body: deployment('web', 'nginx:1.28')
      }
    )
    expect(noManager.status).toBe(400)
  })

  it('faults from /_sim/faults apply to Kubernetes verbs (429 with Retry-After, 503)', async () => {
    await stack.admin.post('faults', {
      service: 'kube',
      operation: 'apply',
      type: 'throttle',
      count: 1
    })
    await stack.admin.post('faults', {
      service: 'kube',
      operation: 'get',
      type: 'error',
      status: 503,
      count: 1
    })
    const throttled = await kubeFetch(
      cluster,
      token,
      '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=shipline',
      {
        method: 'PATCH',
        contentType: 'application/apply-patch+yaml',
        body: deployment('web', 'nginx:1.28')
      }
    )
    expect(throttled.status).toBe(429)
    expect(throttled.body).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 1 }
    })
    const unavailable = await kubeFetch(
      cluster,
      token,
      '/apis/apps/v1/namespaces/default/deployments/web'
    )
    expect(unavailable.status).toBe(503)
    expect(
      (await kubeFetch(cluster, token, '/apis/apps/v1/namespaces/default/deployments/web')).status
    ).toBe(200)
  })

  it('merge and json patches; the request log tells mutating from read requests', async () => {
    const before = stack.requestLog({ service: 'kube' }).length
    const apps = kc.makeApiClient(k8s.AppsV1Api)
    await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'default', body: { metadata: { labels: { patched: 'yes' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)
    )
    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'default',
        body: [{ op: 'replace', path: '/spec/replicas', value: 1 }]
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch)
    )
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })
    expect(d.metadata?.labels?.patched).toBe('yes')
    expect(d.spec?.replicas).toBe(1)
    const log = stack.requestLog({ service: 'kube' }).slice(before)
    expect(log.map((e) => e.operation)).toEqual(['patch', 'patch', 'get'])
    const mutating = await stack.admin.get<Array<{ operation: string }>>(
      'kube/requests?cluster=api&mutating=true'
    )
    expect(mutating.length).toBeGreaterThan(0)
    expect(mutating.every((e) => e.operation !== 'get' && e.operation !== 'list')).toBe(true)
  })
})

describe('watch', () => {
  it('streams events, resumes from a resourceVersion, answers 410 Gone when too old, can be dropped', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const start = await core.listNamespacedConfigMap({ namespace: 'default' })
    const rv = start.metadata?.resourceVersion
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'w1' } }
    })
    const seen: string[] = []
    const watch = new k8s.Watch(kc)
    let doneErr: unknown = 'pending'
    await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: rv },
      (type, obj: KubernetesObject) => seen.push(`${type}:${obj.metadata?.name}`),
      (err) => {
        doneErr = err
      }
    )
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'w2' } }
    })
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'default' })
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20))
    expect(seen).toEqual(['ADDED:w1', 'ADDED:w2', 'DELETED:w1'])
    const dropped = await stack.admin.post<{ dropped: number }>('kube/drop-watches', {
      cluster: 'api'
    })
    expect(dropped.dropped).toBe(1)
    for (let i = 0; i < 100 && doneErr === 'pending'; i++)
      await new Promise((r) => setTimeout(r, 20))
    expect(doneErr).not.toBe('pending')

    await stack.admin.post('kube/compact', { cluster: 'api' })
    const res = await kubeFetch(
      cluster,
      token,
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`
    )
    const first = JSON.parse(res.text.split('\n')[0]!) as unknown
    expect(first).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' }
    })
  })
})
