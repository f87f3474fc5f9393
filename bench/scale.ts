// Target 7: 20 services deployed concurrently with deploy-ecs against one local stack, one bundled-action process
// each (as 20 matrix jobs would), at real speed: total wall time vs one service deployed alone, the stack-wide AWS
// request rate while they run, and failures. The simulator has no ECS rate-limit model (it throttles only when a
// fault is injected), so "no failure from throttling" is checked as: no request answered with a throttling error
// and every deploy SUCCESSFUL; the request rate is printed against the limit it would have to respect.
// Usage: npx tsx bench/scale.ts [services]     (needs `npm run bundle -- deploy-ecs` first)
import { ecsBench, GOOD } from './lib/ecs.js'
import type { BenchOptions, BenchRow } from './lib/row.js'
import { isMain, runStandalone } from './lib/standalone.js'

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const count = options.runs ?? 20
  const b = await ecsBench(1)
  const key = b.stack.clientConfig.credentials.accessKeyId
  try {
    await b.newService('scale-solo', 2)
    const solo = await b.deploy('scale-solo', GOOD[1]!)
    const soloMs = solo.exitedAt - solo.startedAt
    options.log(`scale: one service ${soloMs} ms (${solo.result.outputs['status']})`)

    const names = Array.from({ length: count }, (_, i) => `scale-${i}`)
    for (const n of names) await b.newService(n, 2)
    const sinceId = b.stack.requestLog().at(-1)?.id ?? 0
    const started = Date.now()
    const results = await Promise.all(names.map((n) => b.deploy(n, GOOD[1]!)))
    const wallMs = Date.now() - started
    const requests = b.stack
      .requestLog({ sinceId, kind: 'aws' })
      .filter((r) => r.accessKeyId !== key)
    const throttled = requests.filter((r) => r.errorCode?.startsWith('Throttl')).length
    const ok = results.filter((r) => r.result.outputs['status'] === 'SUCCESSFUL').length
    for (const r of results)
      if (r.result.outputs['status'] !== 'SUCCESSFUL')
        options.log(`scale: ${r.result.outputs['status']} ${r.result.errors.join(' ')}`)
    const perSecond = requests.length / (wallMs / 1000)
    const describe = requests.filter((r) => r.operation.startsWith('Describe')).length
    options.log(
      `scale: ${count} services ${wallMs} ms, ${requests.length} requests (${describe} Describe*), ${throttled} throttled, ${ok} SUCCESSFUL`
    )
    const ratio = wallMs / soloMs
    return [
      {
        target: '7 scale (wall time)',
        measure: `${count} concurrent deploy-ecs processes vs one, wall time`,
        figure: `${(wallMs / 1000).toFixed(1)} s vs ${(soloMs / 1000).toFixed(1)} s`,
        ratio,
        limit: `all ${count} SUCCESSFUL, no throttling failure`,
        pass: ok === count && throttled === 0,
        note: `${ok}/${count} SUCCESSFUL; ${throttled} throttled answers; 2 cores shared by ${count} node processes and the simulator`
      },
      {
        target: '7 scale (request rate)',
        measure: `stack-wide AWS requests/s while ${count} deploys run`,
        figure: `${perSecond.toFixed(1)} req/s`,
        ratio: undefined,
        limit: 'informational (the simulator has no ECS rate-limit model)',
        pass: undefined,
        note: `${requests.length} requests (${describe} Describe*) in ${(wallMs / 1000).toFixed(1)} s, ${(perSecond / count).toFixed(2)} req/s per deploy; throttling is only what faults inject, none here`
      }
    ]
  } finally {
    await b.stop()
  }
}

if (isMain(import.meta.url)) await runStandalone(bench)
