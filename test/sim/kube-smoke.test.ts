import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { KubeConfig } from '@kubernetes/client-node'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import {
  ADMIN_POLICY,
  assumeRole,
  eksToken,
  kubeConfig,
  loadK8s,
  seedCluster,
  type K8sModule,
  type SeededCluster
} from './kube-helpers.js'

let stack: SimStack
let cluster: SeededCluster
let kc: KubeConfig
let k8s: K8sModule

beforeAll(async () => {
  k8s = await loadK8s()
  stack = await startStack({ registry: false })
  cluster = await seedCluster(stack, 'smoke', [
    { principalArn: stack.roleArn, policies: [{ policyArn: ADMIN_POLICY }] }
  ])
  const creds = await assumeRole(stack)
  kc = kubeConfig(k8s, cluster, await eksToken(creds, 'smoke'))
})
afterAll(async () => stack?.stop())

describe('smoke', () => {
  it('lists namespaces over TLS', async () => {
    expect(cluster.endpoint).toMatch(/^https:/)
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const list = await core.listNamespace()
    expect(list.items.map((n) => n.metadata?.name)).toContain('default')
  })
})
