/**
 * deploy-eks-manifest end to end: the bundled action against the local stack (OIDC → STS, EKS DescribeCluster and
 * access entries, the Kubernetes API simulator over TLS with EKS token auth, server-side apply, rollout
 * controllers) and, in GitOps mode, local bare git repositories and the GitHub pull-request stand-in.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { runAction, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(90_000)

const CLUSTER = 'eks-e2e'
const REG = '127.0.0.1:5000'
const D1 = `sha256:${'1'.repeat(64)}`
const D2 = `sha256:${'2'.repeat(64)}`
const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'
let stack: SimStack
const temp = mkdtempSync(join(tmpdir(), 'eks-deploy-e2e-'))

beforeAll(async () => {
  // Real-time clock (EKS tokens are signed with wall-clock time and checked against the simulator's clock);
  // the simulated kubelet is made fast instead.
  stack = await startStack({ registry: false })
  await stack.admin.post('kube/timing', {
    pullMs: 150,
    readyMs: 150,
    crashRunMs: 150,
    errImagePullMs: 300,
    backoffBaseMs: 2000
  })
  await stack.admin.post('eks/seed', {
    clusters: [
      {
        name: CLUSTER,
        authenticationMode: 'API_AND_CONFIG_MAP',
        accessEntries: [{ principalArn: stack.roleArn, policies: [{ policyArn: ADMIN }] }]
      }
    ]
  })
  await stack.admin.post('kube/images', {
    images: [
      { image: `${REG}/shop/web*` },
      // later rules take precedence over the prefix rule above
      { image: `${REG}/shop/web:crash`, behaviour: 'crash', exitCode: 3 },
      { image: `${REG}/shop/web:missing`, exists: false },
      { image: `${REG}/shop/web:never-ready`, behaviour: 'not-ready' }
    ]
  })
})

afterAll(async () => {
  await stack?.stop()
  rmSync(temp, { recursive: true, force: true })
})

function deploymentYaml(name: string, image: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: web
          image: ${image}
          ports: [{containerPort: 8080}]
        - name: sidecar
          image: ${REG}/shop/web-sidecar:1
`
}

function namespaceYaml(name: string): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`
}

function serviceYaml(name: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 8080}]
`
}

function deploy(
  files: Record<string, string>,
  inputs: Record<string, string>,
  options: { roleArn?: string } = {}
): Promise<RunResult> {
  const workspace = mkdtempSync(join(temp, 'ws-'))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(workspace, file, '..'), { recursive: true })
    writeFileSync(join(workspace, file), text)
  }
  return runAction('deploy-eks-manifest', {
    inputs: {
      'role-to-assume': options.roleArn ?? stack.roleArn,
      'cluster-name': CLUSTER,
      manifests: 'k8s',
      ...inputs
    },
    env: stack.env,
    workspace,
    timeoutMs: 80_000
  })
}

interface K8sObject {
  metadata: {
    annotations?: Record<string, string>
    managedFields?: { manager: string }[]
  }
  spec: {
    replicas?: number
    template: { spec: { containers: { name: string; image: string }[] } }
  }
  data?: Record<string, string>
}

function getObject(kind: string, namespace: string, name: string, apiVersion = 'apps/v1') {
  const q = new URLSearchParams({ cluster: CLUSTER, apiVersion, kind, namespace, name })
  return stack.admin.get<K8sObject>(`kube/object?${q.toString()}`)
}

async function mutatingKubeRequests(): Promise<number> {
  const out = await stack.admin.get<unknown[]>(`kube/requests?cluster=${CLUSTER}&mutating=true`)
  return out.length
}

describe('deploy-eks-manifest: apply mode', () => {
  it('rolls out a Deployment + Service with the image by digest (registry with a port), annotated', async () => {
    const ns = uniqueName('ok')
    const result = await deploy(
      {
        'k8s/ns.yaml': namespaceYaml(ns),
        'k8s/web.yaml': `${deploymentYaml('web', `${REG}/shop/web:placeholder`)}---\n${serviceYaml('web')}`
      },
      { images: `${REG}/shop/web@${D1}`, namespace: ns }
    )
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['status']).toBe('SUCCESSFUL')
    expect(JSON.parse(result.outputs['applied'] ?? '')).toEqual([
      { kind: 'Namespace', name: ns },
      { kind: 'Deployment', namespace: ns, name: 'web' },
      { kind: 'Service', namespace: ns, name: 'web' }
    ])
    expect(JSON.parse(result.outputs['images'] ?? '')).toEqual({
      [`${REG}/shop/web:placeholder`]: `${REG}/shop/web@${D1}`
    })
    const live = await getObject('Deployment', ns, 'web')
    expect(live.spec.template.spec.containers.map((c) => c.image)).toEqual([
      `${REG}/shop/web@${D1}`,
      `${REG}/shop/web-sidecar:1`
    ])
    expect(live.metadata.annotations).toMatchObject({
      'shipline.dev/commit': '0123456789abcdef0123456789abcdef01234567',
      'shipline.dev/images': `${REG}/shop/web@${D1},${REG}/shop/web-sidecar:1`
    })
    expect(live.metadata.annotations?.['shipline.dev/run-url']).toMatch(
      /\/acme\/shop\/actions\/runs\//
    )
    expect(live.metadata.managedFields?.map((f) => f.manager)).toContain('shipline')
    expect(result.summary).toContain('deploy-eks-manifest: eks-e2e — SUCCESSFUL')
    expect(result.summary).toMatch(/Deployment\/[\w-]+\/web.*ROLLED_OUT/s)
    const unmasked = result.log.split('\n').filter((l) => !l.startsWith('::add-mask::'))
    expect(unmasked.join('\n')).not.toMatch(/k8s-aws-v1\./)
    expect(result.secrets.some((s) => s.startsWith('k8s-aws-v1.'))).toBe(true)
  })

  it('fails fast on CrashLoopBackOff, rolls back to the previous revision and reports ROLLED_BACK', async () => {
    const ns = uniqueName('crash')
    const files = (image: string) => ({
      'k8s/ns.yaml': namespaceYaml(ns),
      'k8s/web.yaml': deploymentYaml('web', image)
    })
    const first = await deploy(files(`${REG}/shop/web:1`), { namespace: ns })
    expect(first.outputs['status']).toBe('SUCCESSFUL')
    const started = Date.now()
    const result = await deploy(files(`${REG}/shop/web:1`), {
      namespace: ns,
      images: `${REG}/shop/web:crash`,
      'rollout-timeout': '5m'
    })
    expect(Date.now() - started).toBeLessThan(45_000)
    expect(result.exitCode).toBe(1)
    expect({ status: result.outputs['status'], errors: result.errors }).toMatchObject({
      status: 'ROLLED_BACK'
    })
    expect(result.errors.join('\n')).toMatch(
      /rollout of deployment\/web failed and was rolled back to revision 1: pod web-[\w-]+ container web: CrashLoopBackOff \(last exit code 3\)/
    )
    expect(result.warnings.join('\n')).toMatch(
      /deployment\/web: pod web-[\w-]+ container web: CrashLoopBackOff/
    )
    expect(result.log).toMatch(/ {2}event BackOff: Back-off restarting failed container web/)
    const live = await getObject('Deployment', ns, 'web')
    expect(live.spec.template.spec.containers[0]?.image).toBe(`${REG}/shop/web:1`)
    expect(result.summary).toContain('ROLLED_BACK')
  })

  it('fails fast on an image that cannot be pulled and rolls back', async () => {
    const ns = uniqueName('pull')
    const files = (image: string) => ({
      'k8s/ns.yaml': namespaceYaml(ns),
      'k8s/web.yaml': deploymentYaml('web', image)
    })
    expect((await deploy(files(`${REG}/shop/web:1`), { namespace: ns })).outputs['status']).toBe(
      'SUCCESSFUL'
    )
    const result = await deploy(files(`${REG}/shop/web:1`), {
      namespace: ns,
      images: `${REG}/shop/web:missing`
    })
    expect(result.exitCode).toBe(1)
    expect({ status: result.outputs['status'], errors: result.errors }).toMatchObject({
      status: 'ROLLED_BACK'
    })
    expect(result.errors.join('\n')).toMatch(
      /rolled back to revision 1: .*(ImagePullBackOff|ErrImagePull)/
    )
  })

  it('fails before touching the cluster when an images entry matches nothing', async () => {
    const before = await mutatingKubeRequests()
    const result = await deploy(
      { 'k8s/web.yaml': deploymentYaml('web', `${REG}/shop/web:1`) },
      { images: `${REG}/shop/other@${D2}`, namespace: uniqueName('nomatch') }
    )
    expect(result.exitCode).toBe(1)
    expect(result.errors.join('\n')).toMatch(
      /input "images": "127\.0\.0\.1:5000\/shop\/other@sha256:2+" matched no container image/
    )
    expect(await mutatingKubeRequests()).toBe(before)
  })

  it('explains a role without an access entry: caller, auth mode and the create-access-entry command', async () => {
    const roleArn = 'arn:aws:iam::123456789012:role/ci/no-access'
    await stack.admin.post('sts/roles', {
      roleArn,
      trust: { sub: ['repo:*'], aud: 'sts.amazonaws.com' },
      maxSessionDuration: 3600
    })
    const result = await deploy(
      { 'k8s/web.yaml': deploymentYaml('web', `${REG}/shop/web:1`) },
      { namespace: 'default' },
      { roleArn }
    )
    expect(result.exitCode).toBe(1)
    const errors = result.errors.join('\n')
    expect(errors).toMatch(/refused our EKS token \(401 Unauthorized\)/)
    expect(errors).toContain('authentication mode API_AND_CONFIG_MAP')
    expect(errors).toContain(
      `aws eks create-access-entry --cluster-name ${CLUSTER} --region us-east-1 --principal-arn arn:aws:iam::123456789012:role/no-access`
    )
    expect(errors).toContain('aws eks associate-access-policy')
    expect(errors).toMatch(/Caller: arn:aws:sts::123456789012:assumed-role\/no-access\//)
    expect(result.summary).toContain('access denied')
    expect(result.summary).toContain('aws eks create-access-entry --cluster-name eks-e2e')
  })

  it('leaves spec.replicas to a HorizontalPodAutoscaler that targets the Deployment', async () => {
    const ns = uniqueName('hpa')
    const files = {
      'k8s/ns.yaml': namespaceYaml(ns),
      'k8s/web.yaml': deploymentYaml('web', `${REG}/shop/web:1`, 2)
    }
    expect((await deploy(files, { namespace: ns })).outputs['status']).toBe('SUCCESSFUL')
    await stack.admin.post('kube/objects', {
      cluster: CLUSTER,
      manager: 'kubectl',
      operation: 'Apply',
      objects: [
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'web', namespace: ns },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
            minReplicas: 2,
            maxReplicas: 10
          }
        }
      ]
    })
    await stack.admin.post('kube/hpa-scale', {
      cluster: CLUSTER,
      namespace: ns,
      name: 'web',
      replicas: 4
    })
    for (let i = 0; i < 50 && (await getObject('Deployment', ns, 'web')).spec.replicas !== 4; i++) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect((await getObject('Deployment', ns, 'web')).spec.replicas).toBe(4)
    const result = await deploy(files, { namespace: ns, images: `${REG}/shop/web:2` })
    expect(result.errors).toEqual([])
    expect(result.outputs['status']).toBe('SUCCESSFUL')
    expect(result.log).toMatch(/deployment\/web is scaled by a HorizontalPodAutoscaler/)
    const live = await getObject('Deployment', ns, 'web')
    expect(live.spec.replicas).toBe(4)
    expect(live.spec.template.spec.containers[0]?.image).toBe(`${REG}/shop/web:2`)
  })

  it('names the other field manager on an apply conflict, and takes over with force-conflicts', async () => {
    const ns = uniqueName('ssa')
    await stack.admin.post('kube/objects', {
      cluster: CLUSTER,
      manager: 'kubectl',
      operation: 'Apply',
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'settings', namespace: ns },
          data: { mode: 'blue' }
        }
      ]
    })
    const files = {
      'k8s/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: green}\n'
    }
    const conflict = await deploy(files, { namespace: ns })
    expect(conflict.exitCode).toBe(1)
    expect(conflict.errors.join('\n')).toMatch(
      /server-side apply of configmap\/settings conflicts with field manager "kubectl".*force-conflicts: true/s
    )
    const forced = await deploy(files, { namespace: ns, 'force-conflicts': 'true' })
    expect(forced.errors).toEqual([])
    expect(forced.outputs['status']).toBe('SUCCESSFUL')
    expect((await getObject('ConfigMap', ns, 'settings', 'v1')).data).toEqual({ mode: 'green' })
  })
})

describe('deploy-eks-manifest: other workloads, dry-run and the deadline', () => {
  it('follows a StatefulSet, a DaemonSet and a Job to completion', async () => {
    const ns = uniqueName('kinds')
    const podSpec = `containers: [{name: main, image: ${REG}/shop/web:1}]`
    const result = await deploy(
      {
        'k8s/ns.yaml': namespaceYaml(ns),
        'k8s/kinds.yaml': `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {${podSpec}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {${podSpec}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      initContainers: [{name: wait, image: ${REG}/shop/web:1}]
      ${podSpec}
`
      },
      { namespace: ns, images: `${REG}/shop/web@${D2}` }
    )
    expect(result.errors).toEqual([])
    expect(result.outputs['status']).toBe('SUCCESSFUL')
    expect(result.summary).toMatch(/StatefulSet\/[\w-]+\/db.*ROLLED_OUT/s)
    expect(result.summary).toMatch(/DaemonSet\/[\w-]+\/agent.*ROLLED_OUT/s)
    expect(result.summary).toMatch(/Job\/[\w-]+\/migrate.*ROLLED_OUT/s)
    const map = JSON.parse(result.outputs['images'] ?? '{}') as Record<string, string>
    expect(map).toEqual({ [`${REG}/shop/web:1`]: `${REG}/shop/web@${D2}` })
  })

  it('dry-run: the API server validates, nothing changes', async () => {
    const ns = uniqueName('dry')
    const files = {
      'k8s/ns.yaml': namespaceYaml(ns),
      'k8s/web.yaml': deploymentYaml('web', `${REG}/shop/web:1`)
    }
    expect((await deploy(files, { namespace: ns })).outputs['status']).toBe('SUCCESSFUL')
    const before = await mutatingKubeRequests()
    const result = await deploy(files, {
      namespace: ns,
      images: `${REG}/shop/web:2`,
      'dry-run': 'true'
    })
    expect(result.errors).toEqual([])
    expect(result.outputs['status']).toBe('DRY_RUN')
    expect((await getObject('Deployment', ns, 'web')).spec.template.spec.containers[0]?.image).toBe(
      `${REG}/shop/web:1`
    )
    expect(await mutatingKubeRequests()).toBeGreaterThan(before)
  })

  it('times out under one deadline and rolls back', async () => {
    const ns = uniqueName('slow')
    const files = {
      'k8s/ns.yaml': namespaceYaml(ns),
      'k8s/web.yaml': deploymentYaml('web', `${REG}/shop/web:1`)
    }
    expect((await deploy(files, { namespace: ns })).outputs['status']).toBe('SUCCESSFUL')
    const started = Date.now()
    const result = await deploy(files, {
      namespace: ns,
      images: `${REG}/shop/web:never-ready`,
      'rollout-timeout': '10s'
    })
    expect(Date.now() - started).toBeLessThan(40_000)
    expect(result.exitCode).toBe(1)
    expect(result.outputs['status']).toBe('ROLLED_BACK')
    expect(result.errors.join('\n')).toMatch(
      /rollout of deployment\/web failed and was rolled back to revision 1: timed out waiting for deployment\/web/
    )
  })
})

// ---- GitOps ------------------------------------------------------------------------------------------

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_CONFIG_NOSYSTEM: '1'
    }
  }).trim()
}

const GITOPS_FILES: Record<string, string> = {
  'apps/web/deployment.yaml': `# plain manifest
${deploymentYaml('web', `${REG}/shop/web:1`)}`,
  'apps/web/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml]
images:
  - name: web   # overridden by CI
    newName: ${REG}/shop/web
    newTag: "1"
`,
  'apps/chart/values.yaml': `replicaCount: 2
image:
  repository: ${REG}/shop/web
  tag: "1"   # written by shipline
`,
  'apps/other/README.yaml': 'untouched: true\n'
}

/** A bare repository at …/acme/gitops.git with GITOPS_FILES on main. */
function gitopsRepo(): { bare: string; url: string } {
  const root = mkdtempSync(join(temp, 'git-'))
  const bare = join(root, 'acme', 'gitops.git')
  mkdirSync(bare, { recursive: true })
  git(bare, 'init', '--quiet', '--bare', '--initial-branch=main')
  const work = join(root, 'seed')
  git(root, 'clone', '--quiet', bare, work)
  for (const [file, text] of Object.entries(GITOPS_FILES)) {
    mkdirSync(join(work, file, '..'), { recursive: true })
    writeFileSync(join(work, file), text)
  }
  git(work, 'add', '-A')
  git(work, 'commit', '--quiet', '-m', 'seed')
  git(work, 'push', '--quiet', 'origin', 'HEAD:main')
  return { bare, url: `file://${bare}` }
}

function show(bare: string, ref: string, file: string): string {
  return git(bare, 'show', `${ref}:${file}`)
}

function gitops(inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runAction('deploy-eks-manifest', {
    inputs: { mode: 'gitops', 'gitops-path': 'apps', 'helm-values-key': 'image', ...inputs },
    env: { ...stack.env, ...env },
    timeoutMs: 60_000
  })
}

describe('deploy-eks-manifest: GitOps mode', () => {
  it('commits the digest to a plain manifest, a kustomization and Helm values, then makes no empty commit', async () => {
    const repo = gitopsRepo()
    const image = `${REG}/shop/web:1234567@${D1}`
    const result = await gitops({ 'gitops-repository': repo.url, images: image })
    expect(result.errors).toEqual([])
    expect(result.outputs['status']).toBe('COMMITTED')
    const sha = result.outputs['gitops-commit-sha'] ?? ''
    expect(git(repo.bare, 'rev-parse', 'main')).toBe(sha)
    expect(show(repo.bare, 'main', 'apps/web/deployment.yaml')).toBe(
      GITOPS_FILES['apps/web/deployment.yaml']?.trim().replace(`${REG}/shop/web:1`, image)
    )
    expect(show(repo.bare, 'main', 'apps/web/kustomization.yaml')).toBe(
      GITOPS_FILES['apps/web/kustomization.yaml']
        ?.replace('newTag: "1"', `newTag: "1234567"\n    digest: "${D1}"`)
        .trim()
    )
    expect(show(repo.bare, 'main', 'apps/chart/values.yaml')).toBe(
      `replicaCount: 2
image:
  repository: ${REG}/shop/web
  tag: "1234567"   # written by shipline
  digest: "${D1}"`
    )
    const message = git(repo.bare, 'log', '-1', '--format=%B', 'main')
    expect(message).toContain(image)
    expect(message).toContain('0123456789abcdef0123456789abcdef01234567')
    const again = await gitops({ 'gitops-repository': repo.url, images: image })
    expect(again.outputs['status']).toBe('UNCHANGED')
    expect(again.outputs['gitops-commit-sha']).toBeUndefined()
    expect(git(repo.bare, 'rev-parse', 'main')).toBe(sha)
  })

  it.each([
    ['another file', 'apps/other/README.yaml', 'untouched: false\n'],
    [
      'the same image line',
      'apps/web/deployment.yaml',
      deploymentYaml('web', `${REG}/shop/web:hotfix`)
    ]
  ])(
    'rebases and retries when the branch moved during the run (%s changed)',
    async (_what, changedFile, changedText) => {
      const repo = gitopsRepo()
      // a git wrapper that lets another writer push to main right before our first push
      const shim = mkdtempSync(join(temp, 'shim-'))
      const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
      const other = join(shim, 'other')
      git(temp, 'clone', '--quiet', repo.bare, other)
      writeFileSync(join(other, changedFile), changedText)
      git(other, 'commit', '--quiet', '-am', 'concurrent change')
      writeFileSync(
        join(shim, 'git'),
        `#!/bin/sh
case " $* " in
  *" push "*) if [ ! -e "${shim}/done" ]; then touch "${shim}/done"; (cd "${other}" && "${realGit}" push --quiet origin HEAD:main); fi ;;
esac
exec "${realGit}" "$@"
`
      )
      chmodSync(join(shim, 'git'), 0o755)
      const result = await gitops(
        { 'gitops-repository': repo.url, images: `${REG}/shop/web@${D2}` },
        { PATH: `${shim}:${process.env['PATH'] ?? ''}` }
      )
      expect(result.errors).toEqual([])
      expect(result.outputs['status']).toBe('COMMITTED')
      expect(result.warnings.join('\n')).toMatch(/moved while we committed; rebasing and retrying/)
      expect(git(repo.bare, 'log', '--format=%s', 'main').split('\n').slice(0, 2)[1]).toBe(
        'concurrent change'
      )
      expect(show(repo.bare, 'main', 'apps/other/README.yaml')).toBe(
        changedFile === 'apps/other/README.yaml' ? 'untouched: false' : 'untouched: true'
      )
      const deployed = show(repo.bare, 'main', 'apps/web/deployment.yaml')
      expect(deployed).toContain(`${REG}/shop/web@${D2}`)
      expect(deployed).not.toContain('hotfix')
    }
  )

  it('opens one pull request and updates it on the next run instead of opening another', async () => {
    const repo = gitopsRepo()
    await stack.admin.post('github/repos', { owner: 'acme', repo: 'gitops', gitDir: repo.bare })
    const env = { GITHUB_API_URL: stack.env['SHIPLINE_SIM_GITHUB_API_URL'] ?? '' }
    const inputs = {
      'gitops-repository': repo.url,
      'gitops-pull-request': 'true',
      'gitops-environment': 'production',
      'gitops-token': stack.env['SHIPLINE_SIM_GITHUB_TOKEN'] ?? ''
    }
    const first = await gitops({ ...inputs, images: `${REG}/shop/web@${D1}` }, env)
    expect(first.errors).toEqual([])
    expect(first.outputs['status']).toBe('PULL_REQUEST')
    const url = first.outputs['pull-request-url'] ?? ''
    expect(url).toMatch(/\/acme\/gitops\/pull\/\d+$/)
    expect(show(repo.bare, 'shipline/production/web', 'apps/web/deployment.yaml')).toContain(D1)
    expect(show(repo.bare, 'main', 'apps/web/deployment.yaml')).not.toContain(D1)
    const second = await gitops({ ...inputs, images: `${REG}/shop/web@${D2}` }, env)
    expect(second.errors).toEqual([])
    expect(second.outputs['pull-request-url']).toBe(url)
    expect(show(repo.bare, 'shipline/production/web', 'apps/web/deployment.yaml')).toContain(D2)
    const pulls = await stack.admin.get<{ state: string; title: string }[]>(
      'github/pulls?repo=acme/gitops'
    )
    expect(pulls.filter((p) => p.state === 'open')).toHaveLength(1)
    expect(pulls[0]?.title).toContain(D2)
    expect(readFileSync(join(first.dir, 'summary-main'), 'utf8')).toContain('PULL_REQUEST')
  })
})
