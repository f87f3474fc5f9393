import { describe, expect, it } from '@jest/globals'
import { ActionError } from '@shipline/action-kit'
import {
  authDiagnosis,
  canonicalPrincipalArn,
  deployManifests,
  type DeployDeps,
  gitopsRepository,
  KubeApiError,
  type KubeApi,
  type KubeObject,
  parseManifestText
} from '@shipline/kube'

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole'])

/** An in-memory API server: applied objects become "rolled out" at once. */
class FakeApi implements KubeApi {
  applied: { object: KubeObject; dryRun: boolean; force: boolean }[] = []
  hpas: KubeObject[] = []
  failWith: KubeApiError | undefined
  apply(object: KubeObject, options: { dryRun: boolean; force: boolean }) {
    if (this.failWith) return Promise.reject(this.failWith)
    this.applied.push({ object: structuredClone(object), ...options })
    return Promise.resolve(object)
  }
  get(_v: string, kind: string, namespace: string | undefined, name: string) {
    const found = this.applied.find(
      (a) =>
        a.object.kind === kind &&
        a.object.metadata.name === name &&
        a.object.metadata.namespace === namespace
    )
    if (!found) return Promise.resolve(undefined)
    const spec = (found.object['spec'] ?? {}) as Record<string, unknown>
    const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1
    return Promise.resolve({
      ...found.object,
      metadata: { ...found.object.metadata, generation: 1 },
      status: {
        observedGeneration: 1,
        replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas
      }
    } as KubeObject)
  }
  list(_v: string, kind: string) {
    return Promise.resolve(kind === 'HorizontalPodAutoscaler' ? this.hpas : [])
  }
  watch() {
    return Promise.resolve({ stop: () => undefined })
  }
  isNamespaced(_v: string, kind: string) {
    return Promise.resolve(!CLUSTER_SCOPED.has(kind))
  }
}

function deps(api: KubeApi, authErrors: number[] = []): DeployDeps {
  return {
    api,
    now: () => Date.now(),
    info: () => undefined,
    warning: () => undefined,
    onAuthError: (status) => {
      authErrors.push(status)
      return Promise.resolve(new ActionError(`auth ${status}`))
    },
    recheckMs: 10
  }
}

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: r.io/web:1}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`

const options = (overrides: Record<string, unknown> = {}) => ({
  objects: parseManifestText('manifests', 'all.yaml', MANIFESTS),
  namespace: 'shop',
  forceConflicts: false,
  dryRun: false,
  respectHpa: true,
  timeoutMs: 5000,
  rollbackOnFailure: true,
  annotations: { 'shipline.dev/commit': 'abc' },
  ...overrides
})

describe('deployManifests', () => {
  it('applies Namespaces first, defaults the namespace of namespaced objects only, annotates, waits', async () => {
    const api = new FakeApi()
    const report = await deployManifests(deps(api), options())
    expect(report.status).toBe('SUCCESSFUL')
    expect(
      api.applied.map((a) => `${a.object.kind}:${a.object.metadata.namespace ?? '-'}`)
    ).toEqual(['Namespace:-', 'Deployment:shop', 'ConfigMap:other', 'ClusterRole:-'])
    const web = api.applied[1]?.object
    expect(web?.metadata['annotations']).toEqual({
      'shipline.dev/commit': 'abc',
      'shipline.dev/images': 'r.io/web:1'
    })
    expect(
      ((web?.['spec'] as Record<string, unknown>)['template'] as { metadata: unknown }).metadata
    ).toEqual({
      labels: { app: 'web' }
    })
    expect(report.workloads).toMatchObject([{ id: 'Deployment/shop/web', outcome: 'ROLLED_OUT' }])
  })

  it('drops spec.replicas of a workload an HPA targets', async () => {
    const api = new FakeApi()
    api.hpas = [
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' } }
      }
    ]
    const report = await deployManifests(deps(api), options())
    const spec = api.applied.find((a) => a.object.kind === 'Deployment')?.object['spec'] as Record<
      string,
      unknown
    >
    expect('replicas' in spec).toBe(false)
    expect(report.notes).toEqual([
      'deployment/web: spec.replicas not sent (a HorizontalPodAutoscaler manages it)'
    ])
    const kept = new FakeApi()
    kept.hpas = api.hpas
    await deployManifests(deps(kept), options({ respectHpa: false }))
    expect((kept.applied[1]?.object['spec'] as Record<string, unknown>)['replicas']).toBe(3)
  })

  it('server dry-run: every object sent with dryRun, nothing awaited', async () => {
    const api = new FakeApi()
    const report = await deployManifests(deps(api), options({ dryRun: true, forceConflicts: true }))
    expect(report.status).toBe('DRY_RUN')
    expect(api.applied.every((a) => a.dryRun && a.force)).toBe(true)
    expect(report.workloads).toEqual([])
  })

  it('names the other field manager on a 409 and sends auth failures to the diagnosis', async () => {
    const api = new FakeApi()
    api.failWith = new KubeApiError(
      409,
      {
        message:
          'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.mode'
      },
      'apply'
    )
    await expect(deployManifests(deps(api), options())).rejects.toThrow(
      /conflicts with field manager "kubectl-client-side-apply".*"force-conflicts: true"/
    )
    const statuses: number[] = []
    api.failWith = new KubeApiError(401, { message: 'Unauthorized' }, 'apply')
    await expect(deployManifests(deps(api, statuses), options())).rejects.toThrow('auth 401')
    expect(statuses).toEqual([401])
  })
})

describe('EKS access diagnosis', () => {
  it('maps an assumed-role ARN to the role ARN without its path', () => {
    expect(canonicalPrincipalArn('arn:aws:sts::123456789012:assumed-role/deploy/gha-42')).toBe(
      'arn:aws:iam::123456789012:role/deploy'
    )
  })

  it('prints the access-entry commands, or the aws-auth mapping in CONFIG_MAP mode', () => {
    const base = {
      status: 401,
      clusterName: 'prod',
      region: 'eu-west-1',
      callerArn: 'arn:aws:sts::123456789012:assumed-role/deploy/gha',
      accessEntries: [] as string[],
      serverMessage: 'Unauthorized'
    }
    const api = authDiagnosis({ ...base, authenticationMode: 'API' })
    expect(api.message).toMatch(/access entry missing/)
    expect(api.hint).toContain(
      'aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn arn:aws:iam::123456789012:role/deploy'
    )
    expect(authDiagnosis({ ...base, authenticationMode: 'CONFIG_MAP' }).hint).toMatch(
      /aws-auth ConfigMap/
    )
    const forbidden = authDiagnosis({
      ...base,
      status: 403,
      authenticationMode: 'API',
      accessEntries: ['arn:aws:iam::123456789012:role/deploy']
    })
    expect(forbidden.hint).toMatch(
      /^The role has an access entry but lacks rights.*associate-access-policy/
    )
  })
})

describe('gitops-repository', () => {
  it('accepts owner/name and clone URLs, never credentials in the URL', () => {
    expect(gitopsRepository('acme/gitops', 'https://github.example.com')).toEqual({
      url: 'https://github.example.com/acme/gitops.git',
      owner: 'acme',
      name: 'gitops'
    })
    expect(gitopsRepository('file:///srv/git/acme/gitops.git')).toMatchObject({
      owner: 'acme',
      name: 'gitops'
    })
    expect(() => gitopsRepository('https://x:y@github.com/acme/gitops.git')).toThrow(/credentials/)
  })
})
