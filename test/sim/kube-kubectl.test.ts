/**
 * Fidelity check with a real client: kubectl applies (server-side), gets and waits for a rollout against
 * the simulated API server, authenticating with an EKS token and verifying the generated CA.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { ADMIN_POLICY, assumeRole, eksToken, seedCluster } from './kube-helpers.js'

const run = promisify(execFile)
const hasKubectl = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false
)
const maybe = hasKubectl ? describe : describe.skip

let stack: SimStack
let dir: string
let kubeconfig: string

async function kubectl(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60000 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? ''
    }
  }
}

const manifest = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: ${image}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`

beforeAll(async () => {
  if (!hasKubectl) return
  stack = await startStack({ registry: false, speed: 10 })
  const cluster = await seedCluster(stack, 'kubectl', [
    { principalArn: stack.roleArn, policies: [{ policyArn: ADMIN_POLICY }] }
  ])
  await stack.admin.post('kube/images', { images: ['web:1', 'web:2'] })
  const token = await eksToken(await assumeRole(stack), 'kubectl', {
    signingDate: new Date(stack.clock.now())
  })
  dir = mkdtempSync(join(tmpdir(), 'kube-sim-kubectl-'))
  kubeconfig = join(dir, 'config')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: { server: cluster.endpoint, 'certificate-authority-data': cluster.caData }
        }
      ],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x'
    }),
    { mode: 0o600 }
  )
})
afterAll(async () => {
  await stack?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

maybe('kubectl against the simulator', () => {
  it('apply --server-side, get, rollout status, and a conflict with another field manager', async () => {
    writeFileSync(join(dir, 'm1.yaml'), manifest('web:1'))
    const applied = await kubectl(
      'apply',
      '--server-side',
      '--field-manager=ci',
      '--validate=false',
      '-f',
      join(dir, 'm1.yaml')
    )
    expect(applied.stderr).toBe('')
    expect(applied.stdout).toContain('deployment.apps/web serverside-applied')
    expect(applied.stdout).toContain('service/web serverside-applied')
    const status = await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('deployment "web" successfully rolled out')
    const got = await kubectl('get', 'deployment', 'web', '-o', 'json')
    expect((JSON.parse(got.stdout) as { status: unknown }).status).toMatchObject({
      readyReplicas: 2,
      updatedReplicas: 2
    })

    writeFileSync(join(dir, 'm2.yaml'), manifest('web:2'))
    const conflict = await kubectl(
      'apply',
      '--server-side',
      '--field-manager=other',
      '--validate=false',
      '-f',
      join(dir, 'm2.yaml')
    )
    expect(conflict.code).not.toBe(0)
    expect(conflict.stderr).toContain('conflict with "ci"')
    const forced = await kubectl(
      'apply',
      '--server-side',
      '--field-manager=other',
      '--force-conflicts',
      '--validate=false',
      '-f',
      join(dir, 'm2.yaml')
    )
    expect(forced.code).toBe(0)
    const second = await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')
    expect(second.stdout).toContain('deployment "web" successfully rolled out')
  }, 90000)
})
