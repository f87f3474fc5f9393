/**
 * The simulated kubelet pulls from the simulator's ECR registry: a pushed image runs (its digest as
 * imageID), an image label makes it crash with an exit code, an unpushed tag fails to pull until it is pushed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import type { CoreV1Api, KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node'
import { rmSync } from 'node:fs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { buildImage, docker, dockerConfigDir, dockerOk, loginWithToken } from './docker-helpers.js'
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
let core: CoreV1Api
let config: string
const localTags: string[] = []
const BASE_OK = 'kube-sim-test/base:ok'
const BASE_CRASH = 'kube-sim-test/base:crash'

async function push(source: string, ref: string): Promise<string> {
  await dockerOk(['tag', source, ref])
  localTags.push(ref)
  const out = await dockerOk(['push', ref], { config })
  return /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1] ?? ''
}

async function apply(name: string, image: string): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc)
  await client.patch(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image }] }
        }
      }
    } as KubernetesObject,
    undefined,
    undefined,
    'shipline',
    true,
    k8s.PatchStrategy.ServerSideApply
  )
}

async function pod(app: string): Promise<V1Pod | undefined> {
  return (await core.listNamespacedPod({ namespace: 'default', labelSelector: `app=${app}` }))
    .items[0]
}

beforeAll(async () => {
  k8s = await loadK8s()
  stack = await startStack()
  config = dockerConfigDir()
  await buildImage(BASE_OK)
  await buildImage(BASE_CRASH, { 'shipline.sim.behaviour': 'crash', 'shipline.sim.exit-code': '7' })
  localTags.push(BASE_OK, BASE_CRASH)
  const ecr = new ECRClient({ ...stack.clientConfig })
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}))
  await loginWithToken(stack.registryHost, auth.authorizationData![0]!.authorizationToken!, config)
  const cluster = await seedCluster(stack, 'reg', [
    { principalArn: stack.roleArn, policies: [{ policyArn: ADMIN_POLICY }] }
  ])
  kc = kubeConfig(k8s, cluster, await eksToken(await assumeRole(stack), 'reg'))
  core = kc.makeApiClient(k8s.CoreV1Api)
}, 120_000)

afterAll(async () => {
  await stack?.stop()
  if (localTags.length) await docker(['rmi', '-f', ...localTags])
  if (config) rmSync(config, { recursive: true, force: true })
})

describe('kubelet ↔ ECR registry', () => {
  it('runs pushed images, crashes on the behaviour label, and pulls a tag once it is pushed', async () => {
    const host = stack.registryHost
    const digest = await push(BASE_OK, `${host}/app:1`)
    await push(BASE_CRASH, `${host}/app:crash`)
    await apply('ok', `${host}/app:1`)
    await apply('bad', `${host}/app:crash`)
    await apply('later', `${host}/app:2`)
    const running = await until(
      stack,
      async () => {
        const p = await pod('ok')
        return p?.status?.containerStatuses?.[0]?.ready ? p : undefined
      },
      500
    )
    expect(running.status?.containerStatuses?.[0]?.imageID).toBe(`${host}/app@${digest}`)
    const crashed = await until(
      stack,
      async () => {
        const s = (await pod('bad'))?.status?.containerStatuses?.[0]
        return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined
      },
      500
    )
    expect(crashed.lastState?.terminated?.exitCode).toBe(7)
    await until(
      stack,
      async () => {
        const w = (await pod('later'))?.status?.containerStatuses?.[0]?.state?.waiting?.reason
        return w === 'ErrImagePull' || w === 'ImagePullBackOff'
      },
      500
    )
    await push(BASE_OK, `${host}/app:2`)
    await new Promise((r) => setTimeout(r, 1200)) // the kubelet re-resolves after a second of real time
    await until(
      stack,
      async () => (await pod('later'))?.status?.containerStatuses?.[0]?.ready === true,
      5000
    )
  }, 120_000)
})
