/**
 * The local demo of the whole Shipline pipeline: the reusable workflow users call (.github/workflows/pipeline.yml)
 * parsed by GitHub's @actions/workflow-parser and run job by job (examples/workflow-runner.ts), every Shipline
 * action from its bundle (dist/) by the runner protocol, against the local stack and the real Docker engine.
 *
 *   npm ci && npm run demo                       # ECS target (and EKS when available): green
 *   npm run demo -- --scenario crash             # the new revision crashes: circuit breaker → rollback, exit 1
 *   npm run demo -- --scenario cve               # a CRITICAL finding: the scan gate blocks, no deploy, exit 1
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../test/helpers/runner.js'
import { runPipelineDemo, SCENARIOS, type Scenario } from './pipeline-demo.js'

const say = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

function parseScenario(argv: string[]): Scenario {
  const index = argv.findIndex((a) => a === '--scenario' || a.startsWith('--scenario='))
  if (index < 0) return 'none'
  const arg = argv[index] as string
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[index + 1] ?? '')
  if (!(SCENARIOS as readonly string[]).includes(value))
    throw new Error(`--scenario: expected one of ${SCENARIOS.join(', ')}, got "${value}"`)
  return value as Scenario
}

// The AWS SDK warns on Node 20 about its releases from 2027; the demo has nothing to do about it.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name !== 'NodeVersionSupportWarning')
    process.stderr.write(`${warning.name}: ${warning.message}\n`)
})

async function main(): Promise<number> {
  const scenario = parseScenario(process.argv.slice(2))
  say('━━ Prerequisites: Docker engine, docker-registry, busybox-static')
  execFileSync('bash', [join(REPO_ROOT, 'scripts/ensure-engine.sh')], { stdio: 'inherit' })
  const needed = ['build-tag-push', 'scan-gate', 'render-task-def', 'deploy-ecs']
  const missing = needed.filter((name) => !existsSync(join(REPO_ROOT, 'dist', name, 'index.js')))
  if (missing.length) throw new Error(`dist/ lacks ${missing.join(', ')}: run npm run bundle`)

  say(
    `━━ Local stack (STS + OIDC issuer, ECR + registry, ECS)${scenario === 'none' ? '' : `, scenario ${scenario}`}`
  )
  const result = await runPipelineDemo({
    scenario,
    approve: (environment) => {
      say(`   (demo) environment "${environment}": a required reviewer approves the deployment`)
      return true
    }
  })

  say('\n━━ Stood in for GitHub-only steps')
  for (const uses of result.standIns) say(`   ${uses}`)
  say('\n━━ Result')
  say(`   ECS: ${result.verdict}`)
  say(
    `   EKS: ${'skipped' in result.eks ? `skipped — ${result.eks.skipped}` : result.eks.conclusion}`
  )
  const failed =
    result.ecs.conclusion !== 'success' ||
    ('jobs' in result.eks && result.eks.conclusion !== 'success')
  return failed ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
