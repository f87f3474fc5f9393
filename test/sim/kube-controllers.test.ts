/**
 * The controllers of the Kubernetes API simulator on simulated time: Deployment rollouts (ReplicaSets,
 * revisions, maxSurge/maxUnavailable, progress deadline, pause, rollback), pods that pull, crash or never
 * start (with Events), StatefulSet partitions, DaemonSets and Jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  V1Deployment,
  V1Pod
} from '@kubernetes/client-node'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import {
  ADMIN_POLICY,
  assumeRole,
  eksToken,
  kubeConfig,
  loadK8s,
  seedCluster,
  until,
  type K8sModule
} from './kube-helpers.js'

let stack: SimStack
let k8s: K8sModule
let kc: KubeConfig
let apps: AppsV1Api
let core: CoreV1Api
let batch: BatchV1Api

const NS = 'default'

function deployment(
  name: string,
  image: string,
  spec: Record<string, unknown> = {},
  env?: Array<{ name: string; value: string }>
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, ...(env ? { env } : {}) }] }
      },
      ...spec
    }
  }
}

async function apply(obj: KubernetesObject): Promise<KubernetesObject> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc)
  return client.patch(
    obj,
    undefined,
    undefined,
    'shipline',
    true,
    k8s.PatchStrategy.ServerSideApply
  )
}

async function podsOf(app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items
}

function cond(d: V1Deployment, type: string) {
  return d.status?.conditions?.find((c) => c.type === type)
}

beforeAll(async () => {
  k8s = await loadK8s()
  stack = await startStack({ registry: false })
  const cluster = await seedCluster(stack, 'ctl', [
    { principalArn: stack.roleArn, policies: [{ policyArn: ADMIN_POLICY }] }
  ])
  await stack.admin.post('kube/images', {
    images: [
      'web:1',
      'web:2',
      { image: 'crash:1', behaviour: 'crash', exitCode: 3 },
      { image: 'job:*' }
    ]
  })
  const token = await eksToken(await assumeRole(stack), 'ctl')
  kc = kubeConfig(k8s, cluster, token)
  apps = kc.makeApiClient(k8s.AppsV1Api)
  core = kc.makeApiClient(k8s.CoreV1Api)
  batch = kc.makeApiClient(k8s.BatchV1Api)
})
afterAll(async () => stack?.stop())

describe('Deployment rollouts', () => {
  it('rolls out, then rolls a new image within maxSurge/maxUnavailable, with revisions and watch events', async () => {
    await apply(deployment('web', 'web:1'))
    const first = await until(stack, async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS })
      return d.status?.availableReplicas === 3 &&
        cond(d, 'Progressing')?.reason === 'NewReplicaSetAvailable'
        ? d
        : undefined
    })
    expect(first.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3
    })
    expect(cond(first, 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable'
    })
    const pods = await podsOf('web')
    expect(pods).toHaveLength(3)
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running')
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True')
      expect(p.metadata?.labels?.['pod-template-hash']).toBeTruthy()
    }

    const events: string[] = []
    const watch = new k8s.Watch(kc)
    const req = await watch.watch(
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      { fieldSelector: 'metadata.name=web', resourceVersion: first.metadata?.resourceVersion },
      (type, obj: V1Deployment) => events.push(`${type}:${obj.status?.updatedReplicas ?? 0}`),
      () => undefined
    )
    await apply(deployment('web', 'web:2'))
    let maxPods = 0
    const done = await until(
      stack,
      async () => {
        maxPods = Math.max(maxPods, (await podsOf('web')).length)
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS })
        return d.status?.observedGeneration === 2 &&
          d.status.updatedReplicas === 3 &&
          d.status.availableReplicas === 3 &&
          d.status.replicas === 3
          ? d
          : undefined
      },
      500
    )
    req.abort()
    expect(maxPods).toBeLessThanOrEqual(4) // 3 + maxSurge 25% (rounded up)
    expect(cond(done, 'Progressing')?.reason).toBe('NewReplicaSetAvailable')
    const rss = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' }))
      .items
    const byRev = Object.fromEntries(
      rss.map((r) => [r.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '', r])
    )
    expect(byRev['1']?.spec?.replicas).toBe(0)
    expect(byRev['2']?.spec?.replicas).toBe(3)
    expect(byRev['2']?.spec?.template?.spec?.containers[0]?.image).toBe('web:2')
    expect(events.length).toBeGreaterThan(1)
    expect(events.every((e) => e.startsWith('MODIFIED:'))).toBe(true)
    const scaling = (
      await core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: 'involvedObject.name=web,reason=ScalingReplicaSet'
      })
    ).items
    expect(scaling.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Scaled up replica set web-\w+ from 0 to /)])
    )

    // rollback: re-applying revision 1's template reuses its ReplicaSet as revision 3
    await apply(deployment('web', 'web:1'))
    await until(
      stack,
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS })
        return (
          d.status?.updatedReplicas === 3 &&
          d.status.availableReplicas === 3 &&
          d.status.replicas === 3 &&
          d.status.observedGeneration === 3
        )
      },
      500
    )
    const after = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' }))
      .items
    expect(after).toHaveLength(2)
    const rev3 = after.find(
      (r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3'
    )
    expect(rev3?.metadata?.name).toBe(byRev['1']?.metadata?.name)
  })

  it('a missing image: ErrImagePull then ImagePullBackOff with Events, then ProgressDeadlineExceeded', async () => {
    await apply(
      deployment('ghost', '127.0.0.1:5999/ghost:404', { replicas: 1, progressDeadlineSeconds: 60 })
    )
    const waiting = await until(
      stack,
      async () => {
        const [p] = await podsOf('ghost')
        const w = p?.status?.containerStatuses?.[0]?.state?.waiting
        return w?.reason === 'ErrImagePull' ? w : undefined
      },
      250
    )
    expect(waiting.message).toContain('127.0.0.1:5999/ghost:404')
    const backoff = await until(
      stack,
      async () => {
        const [p] = await podsOf('ghost')
        const w = p?.status?.containerStatuses?.[0]?.state?.waiting
        return w?.reason === 'ImagePullBackOff' ? p : undefined
      },
      250
    )
    expect(backoff.status?.phase).toBe('Pending')
    const evs = (
      await core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: `involvedObject.name=${backoff.metadata?.name}`
      })
    ).items
    expect(evs.map((e) => `${e.type}/${e.reason}`)).toEqual(
      expect.arrayContaining([
        'Normal/Scheduled',
        'Normal/Pulling',
        'Warning/Failed',
        'Normal/BackOff'
      ])
    )
    expect(evs.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Failed to pull image "127\.0\.0\.1:5999\/ghost:404": /)
      ])
    )
    let d = await apps.readNamespacedDeployment({ name: 'ghost', namespace: NS })
    expect(cond(d, 'Progressing')?.status).toBe('True')
    stack.clock.advance(61_000)
    d = await until(stack, async () => {
      const x = await apps.readNamespacedDeployment({ name: 'ghost', namespace: NS })
      return cond(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? x : undefined
    })
    expect(cond(d, 'Progressing')).toMatchObject({
      status: 'False',
      message: expect.stringMatching(/^ReplicaSet "ghost-\w+" has timed out progressing\.$/)
    })
  })

  it('a crashing container: CrashLoopBackOff with lastState.terminated.exitCode (image scenario and env flag)', async () => {
    await apply(deployment('crashy', 'crash:1', { replicas: 1 }))
    await apply(
      deployment('envcrash', 'web:1', { replicas: 1 }, [
        { name: 'SHIPLINE_SIM_BEHAVIOUR', value: 'crash' },
        { name: 'SHIPLINE_SIM_EXIT_CODE', value: '137' }
      ])
    )
    for (const [app, code] of [
      ['crashy', 3],
      ['envcrash', 137]
    ] as const) {
      const cs = await until(
        stack,
        async () => {
          const [p] = await podsOf(app)
          const s = p?.status?.containerStatuses?.[0]
          return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined
        },
        500
      )
      expect(cs.lastState?.terminated).toMatchObject({ exitCode: code, reason: 'Error' })
      expect(cs.restartCount).toBeGreaterThanOrEqual(1)
      expect(cs.ready).toBe(false)
      const [p] = await podsOf(app)
      expect(p?.status?.phase).toBe('Running')
      const evs = (
        await core.listNamespacedEvent({
          namespace: NS,
          fieldSelector: `involvedObject.name=${p?.metadata?.name},reason=BackOff`
        })
      ).items
      expect(evs[0]?.message).toMatch(/^Back-off restarting failed container app in pod /)
    }
  })

  it('rolling back a crash-looping rollout to the previous template revives its ReplicaSet and drains the bad one', async () => {
    await apply(deployment('rb', 'web:1', { replicas: 2 }))
    await until(
      stack,
      async () =>
        (await apps.readNamespacedDeployment({ name: 'rb', namespace: NS })).status
          ?.availableReplicas === 2
    )
    await apply(deployment('rb', 'crash:1', { replicas: 2 }))
    await until(
      stack,
      async () => {
        const pods = await podsOf('rb')
        return pods.some(
          (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'
        )
      },
      500
    )
    const mid = await apps.readNamespacedDeployment({ name: 'rb', namespace: NS })
    expect(mid.status?.availableReplicas).toBeGreaterThanOrEqual(1) // maxUnavailable 25% of 2 → 0 → old pods keep serving
    await apply(deployment('rb', 'web:1', { replicas: 2 }))
    const done = await until(
      stack,
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'rb', namespace: NS })
        return d.status?.observedGeneration === 3 &&
          d.status.updatedReplicas === 2 &&
          d.status.availableReplicas === 2 &&
          d.status.replicas === 2
          ? d
          : undefined
      },
      500
    )
    expect(cond(done, 'Progressing')?.reason).toBe('NewReplicaSetAvailable')
    const pods = await podsOf('rb')
    expect(pods.map((p) => p.spec?.containers[0]?.image)).toEqual(['web:1', 'web:1'])
    const rss = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=rb' }))
      .items
    const revs = Object.fromEntries(
      rss.map((r) => [
        r.spec?.template?.spec?.containers[0]?.image ?? '',
        r.metadata?.annotations?.['deployment.kubernetes.io/revision']
      ])
    )
    expect(revs).toEqual({ 'web:1': '3', 'crash:1': '2' })
    expect(
      rss.find((r) => r.spec?.template?.spec?.containers[0]?.image === 'crash:1')?.spec?.replicas
    ).toBe(0)
  })

  it('a missing ConfigMap: CreateContainerConfigError until it exists, then the pod starts', async () => {
    const d = deployment('configured', 'web:1', { replicas: 1 })
    d.spec!.template.spec!.containers[0]!.env = [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } }
    ]
    await apply(d)
    const waiting = await until(
      stack,
      async () => {
        const [p] = await podsOf('configured')
        const w = p?.status?.containerStatuses?.[0]?.state?.waiting
        return w?.reason === 'CreateContainerConfigError' ? w : undefined
      },
      500
    )
    expect(waiting.message).toBe('configmap "app-config" not found')
    const [p] = await podsOf('configured')
    const evs = (
      await core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: `involvedObject.name=${p?.metadata?.name},reason=Failed`
      })
    ).items
    expect(evs.map((e) => e.message)).toContain('Error: configmap "app-config" not found')
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'app-config' }, data: { mode: 'prod' } }
    })
    await until(
      stack,
      async () => {
        const x = await apps.readNamespacedDeployment({ name: 'configured', namespace: NS })
        return x.status?.availableReplicas === 1
      },
      500
    )
  })

  it('a paused Deployment does not roll out and reports DeploymentPaused', async () => {
    await apply(deployment('held', 'web:1', { replicas: 1 }))
    await until(
      stack,
      async () =>
        (await apps.readNamespacedDeployment({ name: 'held', namespace: NS })).status
          ?.availableReplicas === 1
    )
    await apply(deployment('held', 'web:2', { replicas: 1, paused: true }))
    stack.clock.advance(30_000)
    const d = await until(stack, async () => {
      const x = await apps.readNamespacedDeployment({ name: 'held', namespace: NS })
      return cond(x, 'Progressing')?.reason === 'DeploymentPaused' ? x : undefined
    })
    expect(cond(d, 'Progressing')?.status).toBe('Unknown')
    expect(d.status?.updatedReplicas).toBe(0)
    const rss = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=held' }))
      .items
    expect(rss).toHaveLength(1)
  })
})

describe('StatefulSets, DaemonSets, Jobs', () => {
  it('a StatefulSet creates ordinals in order and updates only ordinals ≥ partition', async () => {
    const sts = (image: string, partition: number): KubernetesObject =>
      ({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: NS },
        spec: {
          replicas: 3,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { containers: [{ name: 'db', image }] }
          }
        }
      }) as KubernetesObject
    await apply(sts('web:1', 2))
    const first = await until(stack, async () => {
      const s = await apps.readNamespacedStatefulSet({ name: 'db', namespace: NS })
      return s.status?.readyReplicas === 3 ? s : undefined
    })
    expect((await podsOf('db')).map((p) => p.metadata?.name).sort()).toEqual([
      'db-0',
      'db-1',
      'db-2'
    ])
    expect(first.status?.currentRevision).toBe(first.status?.updateRevision)
    await apply(sts('web:2', 2))
    const s = await until(stack, async () => {
      const x = await apps.readNamespacedStatefulSet({ name: 'db', namespace: NS })
      return x.status?.updatedReplicas === 1 && x.status.readyReplicas === 3 ? x : undefined
    })
    expect(s.status?.currentRevision).not.toBe(s.status?.updateRevision)
    const images = Object.fromEntries(
      (await podsOf('db')).map((p) => [p.metadata?.name ?? '', p.spec?.containers[0]?.image])
    )
    expect(images).toEqual({ 'db-0': 'web:1', 'db-1': 'web:1', 'db-2': 'web:2' })
  })

  it('a DaemonSet runs one pod per node and reports its rollout counts', async () => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: { containers: [{ name: 'a', image: 'web:1' }] }
        }
      }
    } as KubernetesObject)
    const ds = await until(stack, async () => {
      const x = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: NS })
      return x.status?.numberAvailable === 1 ? x : undefined
    })
    expect(ds.status).toMatchObject({
      desiredNumberScheduled: 1,
      updatedNumberScheduled: 1,
      numberReady: 1,
      observedGeneration: 1
    })
  })

  it('Jobs complete, or fail after backoffLimit', async () => {
    const job = (
      name: string,
      image: string,
      env: Array<{ name: string; value: string }> = []
    ): KubernetesObject =>
      ({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace: NS },
        spec: {
          backoffLimit: 1,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'j', image, env }] } }
        }
      }) as KubernetesObject
    await apply(job('migrate', 'job:1'))
    await apply(job('broken', 'job:1', [{ name: 'SHIPLINE_SIM_BEHAVIOUR', value: 'crash' }]))
    const ok = await until(stack, async () => {
      const j = await batch.readNamespacedJob({ name: 'migrate', namespace: NS })
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')
        ? j
        : undefined
    })
    expect(ok.status).toMatchObject({ succeeded: 1, active: 0 })
    const bad = await until(stack, async () => {
      const j = await batch.readNamespacedJob({ name: 'broken', namespace: NS })
      return j.status?.conditions?.some((c) => c.type === 'Failed') ? j : undefined
    })
    expect(bad.status?.failed).toBe(2)
    expect(bad.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe(
      'BackoffLimitExceeded'
    )
  })
})
