// Target 3 (ECS): detection lag of deploy-ecs — the time from the simulated ECS deployment reaching its terminal
// state (COMPLETED) to the bundled action's exit, with the simulated clock at real speed (lag is the point).
// Baseline, measured on the same deployment: the SDK's waitUntilServicesStable with the official action's settings
// (minDelay 15 s, SDK default maxDelay 120 s), started when our action reports its deployment started, as the
// official action starts it right after UpdateService. Also: for a crashing revision, how many tasks had failed
// when the action stopped waiting, against the circuit breaker's own threshold.
// Usage: npx tsx bench/deploy-detection.ts [runs]     (needs `npm run bundle -- deploy-ecs` first)
import { waitUntilServicesStable } from '@aws-sdk/client-ecs'
import { CLUSTER, CRASH, ecsBench, GOOD } from './lib/ecs.js'
import { type BenchOptions, type BenchRow, median } from './lib/row.js'
import { isMain, runStandalone } from './lib/standalone.js'

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const runs = options.runs ?? 3
  const b = await ecsBench(1)
  const successLag: number[] = []
  const baselineLag: number[] = []
  const failedAtExit: number[] = []
  let threshold = 0
  try {
    for (let i = 0; i < runs; i++) {
      const ok = `ok-${i}`
      await b.newService(ok, 2)
      let waiter: Promise<number> | undefined
      const { result, exitedAt } = await b.deploy(ok, GOOD[1]!, {
        onOutput: (stdout) => {
          if (waiter || !/deployment \S+ started/.test(stdout)) return
          waiter = waitUntilServicesStable(
            { client: b.ecs, minDelay: 15, maxWaitTime: 600 },
            { cluster: CLUSTER, services: [ok] }
          ).then(() => Date.now())
        }
      })
      const sd = await b.currentDeployment(ok)
      const finished = b.toWall(sd?.finishedAt?.getTime() ?? NaN)
      if (result.outputs['status'] === 'SUCCESSFUL') successLag.push(exitedAt - finished)
      else
        options.log(
          `deploy-detection run ${i}: deploy ended ${result.outputs['status']}: ${result.errors.join(' ')}`
        )
      const waiterDone = waiter ? await waiter : NaN
      baselineLag.push(waiterDone - finished)
      options.log(
        `deploy-detection run ${i}: success lag ${exitedAt - finished} ms, waiter lag ${waiterDone - finished} ms`
      )

      const bad = `crash-${i}`
      await b.newService(bad, 10)
      const crash = await b.deploy(bad, CRASH)
      const failed = await b.currentDeployment(bad)
      threshold = failed?.deploymentCircuitBreaker?.threshold ?? threshold
      failedAtExit.push(failed?.deploymentCircuitBreaker?.failureCount ?? NaN)
      if (crash.result.outputs['status'] !== 'ROLLED_BACK')
        options.log(
          `deploy-detection run ${i}: crash deploy ended ${crash.result.outputs['status']}`
        )
    }
  } finally {
    await b.stop()
  }
  const lag = median(successLag) / 1000
  const base = median(baselineLag) / 1000
  const ratio = lag / base
  const failRatio = median(failedAtExit) / threshold
  return [
    {
      target: '3 detection lag (ECS)',
      measure: `deploy-ecs success: exit − COMPLETED, median of ${successLag.length}`,
      figure: `${lag.toFixed(2)} s`,
      ratio,
      limit: '≤ 2 s and ≤ 0.15× waitUntilServicesStable',
      pass: successLag.length === runs && lag <= 2 && ratio <= 0.15,
      note: `baseline measured: waitUntilServicesStable (minDelay 15 s, maxDelay 120 s) on the same deployment, started at "deployment started", median lag ${base.toFixed(1)} s; simulated ECS at real speed`
    },
    {
      target: '3 detection (ECS crash)',
      measure: `crashing revision: failed tasks when deploy-ecs stopped waiting, median of ${failedAtExit.length}`,
      figure: `${median(failedAtExit)} of ${threshold}`,
      ratio: failRatio,
      limit: 'before the circuit breaker trips (< 1× threshold)',
      pass: failRatio < 1,
      note: 'the official action waits for the circuit breaker (threshold failures) and then up to its next 15 s poll'
    }
  ]
}

if (isMain(import.meta.url)) await runStandalone(bench)
