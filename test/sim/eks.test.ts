import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  EKSClient,
  EKSServiceException,
  InvalidRequestException,
  ListAccessEntriesCommand,
  ListAssociatedAccessPoliciesCommand,
  ListClustersCommand,
  ResourceNotFoundException,
  paginateListAccessEntries
} from '@aws-sdk/client-eks'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack
let eks: EKSClient

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIsim\n-----END CERTIFICATE-----\n').toString(
  'base64'
)
const DEPLOY_ROLE = 'arn:aws:iam::123456789012:role/deploy'
const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'

beforeAll(async () => {
  stack = await startStack({ registry: false })
  eks = new EKSClient({
    ...stack.clientConfig,
    maxAttempts: 1
  })
  await stack.admin.post('eks/seed', {
    clusters: [
      {
        name: 'prod',
        endpoint: 'https://127.0.0.1:6443',
        certificateAuthority: CA,
        version: '1.33',
        authenticationMode: 'API',
        accessEntries: [
          {
            principalArn: DEPLOY_ROLE,
            kubernetesGroups: ['deployers'],
            policies: [
              { policyArn: ADMIN_POLICY, accessScope: { type: 'namespace', namespaces: ['app'] } }
            ]
          },
          ...Array.from({ length: 4 }, (_, i) => ({
            principalArn: `arn:aws:iam::123456789012:role/extra-${i}`
          }))
        ]
      },
      {
        name: 'legacy',
        endpoint: 'https://127.0.0.1:6444',
        certificateAuthority: CA,
        authenticationMode: 'CONFIG_MAP'
      },
      { name: 'fresh', status: 'CREATING' }
    ]
  })
})
afterAll(async () => {
  eks?.destroy()
  await stack?.stop()
})

async function errorOf(p: Promise<unknown>): Promise<EKSServiceException> {
  try {
    await p
  } catch (e) {
    return e as EKSServiceException
  }
  throw new Error('expected the call to fail')
}

describe('EKS clusters', () => {
  it('describes a seeded cluster with endpoint, CA, status, version and auth mode', async () => {
    const r = await eks.send(new DescribeClusterCommand({ name: 'prod' }))
    expect(r.cluster).toMatchObject({
      name: 'prod',
      arn: `arn:aws:eks:${stack.region}:${stack.accountId}:cluster/prod`,
      endpoint: 'https://127.0.0.1:6443',
      certificateAuthority: { data: CA },
      status: 'ACTIVE',
      version: '1.33',
      accessConfig: { authenticationMode: 'API' }
    })
    expect(r.cluster?.createdAt).toBeInstanceOf(Date)
    const creating = await eks.send(new DescribeClusterCommand({ name: 'fresh' }))
    expect(creating.cluster?.status).toBe('CREATING')
    expect(creating.cluster?.endpoint).toBeUndefined()
    const list = await eks.send(new ListClustersCommand({}))
    expect(list.clusters).toEqual(['fresh', 'legacy', 'prod'])
  })

  it('answers ResourceNotFoundException for unknown clusters', async () => {
    const e = await errorOf(eks.send(new DescribeClusterCommand({ name: 'ghost' })))
    expect(e).toBeInstanceOf(ResourceNotFoundException)
    expect(e.$metadata.httpStatusCode).toBe(404)
    expect(e.message).toBe('No cluster found for name: ghost.')
    expect((e as ResourceNotFoundException).clusterName).toBe('ghost')
  })
})

describe('EKS access entries', () => {
  it('lists access entries page by page and describes one', async () => {
    const all: string[] = []
    let pages = 0
    for await (const page of paginateListAccessEntries(
      { client: eks, pageSize: 2 },
      { clusterName: 'prod' }
    )) {
      pages++
      all.push(...(page.accessEntries ?? []))
    }
    expect(pages).toBe(3)
    expect(all).toHaveLength(5)
    expect(all).toContain(DEPLOY_ROLE)
    const filtered = await eks.send(
      new ListAccessEntriesCommand({ clusterName: 'prod', associatedPolicyArn: ADMIN_POLICY })
    )
    expect(filtered.accessEntries).toEqual([DEPLOY_ROLE])

    const d = await eks.send(
      new DescribeAccessEntryCommand({ clusterName: 'prod', principalArn: DEPLOY_ROLE })
    )
    expect(d.accessEntry).toMatchObject({
      clusterName: 'prod',
      principalArn: DEPLOY_ROLE,
      kubernetesGroups: ['deployers'],
      type: 'STANDARD',
      username: 'arn:aws:sts::123456789012:assumed-role/deploy/{{SessionName}}'
    })
    const policies = await eks.send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: 'prod', principalArn: DEPLOY_ROLE })
    )
    expect(policies.associatedAccessPolicies).toEqual([
      expect.objectContaining({
        policyArn: ADMIN_POLICY,
        accessScope: { type: 'namespace', namespaces: ['app'] }
      })
    ])
  })

  it('answers the errors EKS gives for missing entries, missing clusters and CONFIG_MAP clusters', async () => {
    const missing = await errorOf(
      eks.send(
        new DescribeAccessEntryCommand({
          clusterName: 'prod',
          principalArn: 'arn:aws:iam::123456789012:role/nobody'
        })
      )
    )
    expect(missing).toBeInstanceOf(ResourceNotFoundException)
    const noCluster = await errorOf(
      eks.send(new ListAccessEntriesCommand({ clusterName: 'ghost' }))
    )
    expect(noCluster).toBeInstanceOf(ResourceNotFoundException)
    const configMap = await errorOf(
      eks.send(new ListAccessEntriesCommand({ clusterName: 'legacy' }))
    )
    expect(configMap).toBeInstanceOf(InvalidRequestException)
    expect(configMap.message).toMatch(
      /authentication mode must be set to one of \[API, API_AND_CONFIG_MAP\]/
    )
    const noPolicies = await errorOf(
      eks.send(
        new ListAssociatedAccessPoliciesCommand({
          clusterName: 'prod',
          principalArn: 'arn:aws:iam::123456789012:role/nobody'
        })
      )
    )
    expect(noPolicies).toBeInstanceOf(ResourceNotFoundException)
  })
})
