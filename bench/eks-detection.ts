// Target 3 (EKS): detection lag of deploy-eks-manifest against the simulator's Kubernetes API, real-time clock (EKS
// tokens are checked against it) with a fast simulated kubelet (pull/ready 150 ms, as the e2e tests). The terminal
// instant is observed in-process, from the cluster's own watch stream (no polling on our side):
// - success: the first Deployment event with observedGeneration ≥ generation and replicas = updatedReplicas =
//   availableReplicas = spec.replicas (the rollout complete); lag = action exit − that instant;
// - crash: the first Pod event with a container waiting in CrashLoopBackOff; lag = the action's first log line
//   naming CrashLoopBackOff − that instant (detection), and exit − that instant (includes the rollback it waits for).
// Usage: npx tsx bench/eks-detection.ts [runs]     (needs `npm run bundle -- deploy-eks-manifest` first)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Obj } from '../packages/sim/src/kube/fields.js'
import { startStack } from '../packages/sim/src/stack.js'
import { runAction } from '../test/helpers/runner.js'
import { type BenchOptions, type BenchRow, median } from './lib/row.js'
import { isMain, runStandalone } from './lib/standalone.js'

const CLUSTER = 'bench-eks'
const REG = '127.0.0.1:5000'
const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'

function manifests(ns: string, image: string): Record<string, string> {
  return {
    'k8s/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
    'k8s/web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: ${image}}]
`
  }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0)
const rec = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {})

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const runs = options.runs ?? 3
  const stack = await startStack({ registry: false })
  const temp = mkdtempSync(join(tmpdir(), 'bench-deploy-eks-'))
  const successLag: number[] = []
  const crashDetect: number[] = []
  const crashExit: number[] = []
  try {
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
        { image: `${REG}/shop/web:crash`, behaviour: 'crash', exitCode: 3 }
      ]
    })
    const cluster = stack.kube.clusters.get(CLUSTER)
    if (!cluster) throw new Error(`the simulator started no API server for ${CLUSTER}`)

    /** Resolves with the wall-clock instant of the first matching event in `ns` (from the watch stream). */
    function firstEvent(group: string, resource: string, ns: string, hit: (o: Obj) => boolean) {
      return new Promise<number>((resolve) => {
        const watcher = {
          t: cluster!.type(group, resource),
          namespace: ns,
          match: () => true,
          send: (e: { object: Obj }) => {
            if (!hit(e.object)) return
            cluster!.store.watchers.delete(watcher)
            resolve(Date.now())
          },
          close: () => undefined
        }
        cluster!.store.watchers.add(watcher)
      })
    }
    const rolledOut = (image: string) => (o: Obj) => {
      const spec = rec(o.spec)
      const status = rec(o.status)
      const containers = rec(rec(spec.template).spec).containers as Obj[] | undefined
      const want = num(spec.replicas)
      return (
        containers?.[0]?.image === image &&
        num(status.observedGeneration) >= num(rec(o.metadata).generation) &&
        num(status.replicas) === want &&
        num(status.updatedReplicas) === want &&
        num(status.availableReplicas) === want
      )
    }
    const crashLooping = (o: Obj) =>
      ((rec(o.status).containerStatuses as Obj[] | undefined) ?? []).some(
        (c) => rec(rec(c.state).waiting).reason === 'CrashLoopBackOff'
      )

    const deploy = (ns: string, image: string, onOutput?: (s: string) => void) => {
      const workspace = mkdtempSync(join(temp, 'ws-'))
      for (const [file, text] of Object.entries(manifests(ns, image))) {
        mkdirSync(join(workspace, file, '..'), { recursive: true })
        writeFileSync(join(workspace, file), text)
      }
      return runAction('deploy-eks-manifest', {
        inputs: {
          'role-to-assume': stack.roleArn,
          'cluster-name': CLUSTER,
          manifests: 'k8s',
          namespace: ns
        },
        env: stack.env,
        workspace,
        timeoutMs: 120_000,
        ...(onOutput ? { onOutput } : {})
      })
    }

    for (let i = 0; i < runs; i++) {
      const ns = `bench-${i}-${process.pid}`
      const v1 = `${REG}/shop/web:1`
      const v2 = `${REG}/shop/web:2`
      const first = await deploy(ns, v1)
      if (first.outputs['status'] !== 'SUCCESSFUL')
        throw new Error(
          `eks-detection: first deploy ${first.outputs['status']}: ${first.errors.join(' ')}`
        )
      const done = firstEvent('apps', 'deployments', ns, rolledOut(v2))
      const ok = await deploy(ns, v2)
      const exited = Date.now()
      if (ok.outputs['status'] === 'SUCCESSFUL') successLag.push(exited - (await done))
      else options.log(`eks-detection run ${i}: ${ok.outputs['status']} ${ok.errors.join(' ')}`)

      const looping = firstEvent('', 'pods', ns, crashLooping)
      let seen = 0
      const crash = await deploy(ns, `${REG}/shop/web:crash`, (stdout) => {
        if (!seen && /CrashLoopBackOff/.test(stdout)) seen = Date.now()
      })
      const crashExited = Date.now()
      const at = await looping
      if (crash.outputs['status'] === 'ROLLED_BACK' && seen) {
        crashDetect.push(seen - at)
        crashExit.push(crashExited - at)
      } else options.log(`eks-detection run ${i}: crash deploy ended ${crash.outputs['status']}`)
      options.log(
        `eks-detection run ${i}: success lag ${successLag.at(-1)} ms, crash detection ${seen - at} ms, crash exit ${crashExited - at} ms`
      )
    }
  } finally {
    await stack.stop()
    rmSync(temp, { recursive: true, force: true })
  }
  const s = median(successLag) / 1000
  const d = median(crashDetect) / 1000
  const e = median(crashExit) / 1000
  return [
    {
      target: '3 detection lag (EKS)',
      measure: `deploy-eks-manifest success: exit − rollout complete, median of ${successLag.length}`,
      figure: `${s.toFixed(2)} s`,
      ratio: undefined,
      limit: '≤ 1 s',
      pass: successLag.length === runs && s <= 1,
      note: 'terminal instant from the simulated API server’s watch stream; real-time clock, kubelet pull/ready 150 ms'
    },
    {
      target: '3 detection lag (EKS crash)',
      measure: `crash: action's CrashLoopBackOff line − first CrashLoopBackOff pod status, median of ${crashDetect.length}`,
      figure: `${d.toFixed(2)} s`,
      ratio: undefined,
      limit: '≤ 1 s',
      pass: crashDetect.length === runs && d <= 1,
      note: `exit − CrashLoopBackOff (detection + rollback to the previous revision + exit): median ${e.toFixed(2)} s`
    }
  ]
}

if (isMain(import.meta.url)) await runStandalone(bench)
