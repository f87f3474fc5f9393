/**
 * The local demo of the Shipline pipeline: push → build-tag-push → (re-run: no build) → scan-gate → render-task-def →
 * register + roll out on ECS, every action run from its bundle (dist/) exactly as the GitHub runner runs it, against
 * the local stack (AWS simulator, a real OCI registry, an OIDC issuer) and the real Docker engine.
 *
 *   npm ci && npm run demo
 *
 * The ECS roll-out step drives the simulated ECS API directly until the deploy-ecs action lands.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../packages/sim/src/stack.js'
import { appWorkspace } from '../test/helpers/app-workspace.js'
import { REPO_ROOT, runAction, type RunResult } from '../test/helpers/runner.js'

const OUT = join(REPO_ROOT, '.shipline-demo')
const say = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

function step(title: string): void {
  say(`\n━━ ${title}`)
}

function report(result: RunResult, keys: string[]): void {
  for (const key of keys)
    if (result.outputs[key] !== undefined) say(`   ${key.padEnd(16)} ${result.outputs[key]}`)
  for (const warning of result.warnings) say(`   ⚠ ${warning.split('\n')[0]}`)
}

function mustSucceed(name: string, result: RunResult): void {
  if (result.exitCode === 0) return
  say(result.log)
  throw new Error(`${name} failed: ${result.errors.join('; ')}`)
}

async function main(): Promise<void> {
  step('Prerequisites: Docker engine, docker-registry, busybox-static')
  execFileSync('bash', [join(REPO_ROOT, 'scripts/ensure-engine.sh')], { stdio: 'inherit' })
  for (const name of ['build-tag-push', 'scan-gate', 'render-task-def']) {
    if (!existsSync(join(REPO_ROOT, 'dist', name, 'index.js')))
      throw new Error(`dist/${name} is missing: run npm run bundle`)
  }

  step('Local stack: STS + OIDC issuer, ECR + registry, ECS')
  const stack: SimStack = await startStack({ speed: 10 })
  try {
    say(`   AWS endpoint     ${stack.endpoint}`)
    say(`   registry         ${stack.registryHost}`)
    say(`   role             ${stack.roleArn} (assumed through GitHub-style OIDC)`)

    // A git checkout of the example app, as actions/checkout would leave it.
    const { dir: workspace, sha } = appWorkspace({
      appDir: 'app',
      files: { 'examples/task-definitions/web.json': 'task-definition.json' }
    })
    const env: Record<string, string> = { ...stack.env, GITHUB_SHA: sha }
    const auth = { 'role-to-assume': stack.roleArn, 'aws-region': stack.region }
    const repository = 'shipline/web'
    mkdirSync(OUT, { recursive: true })

    step(`build-tag-push: docker build + push to ECR, tagged with the commit ${sha.slice(0, 7)}`)
    const build = await runAction('build-tag-push', {
      workspace,
      env,
      inputs: { ...auth, repository, context: 'app', 'keep-last': '10' },
      timeoutMs: 300_000
    })
    mustSucceed('build-tag-push', build)
    report(build, ['image-uri', 'image-ref', 'tags', 'built'])

    step(
      'build-tag-push again for the same commit (a re-run): the image exists, so nothing is built'
    )
    const rerun = await runAction('build-tag-push', {
      workspace,
      env,
      inputs: { ...auth, repository, context: 'app' }
    })
    mustSucceed('build-tag-push (re-run)', rerun)
    report(rerun, ['image-ref', 'built'])
    if (rerun.outputs['image-digest'] !== build.outputs['image-digest'])
      throw new Error('the re-run returned another digest')

    step('scan-gate: wait for the ECR scan, gate on HIGH, write SARIF')
    await stack.admin.post('ecr/scenarios', {
      name: 'demo',
      findings: [
        {
          id: 'CVE-2023-5678',
          severity: 'MEDIUM',
          package: 'openssl',
          version: '3.0.11-1',
          score: 5.3
        },
        {
          id: 'CVE-2022-0563',
          severity: 'LOW',
          package: 'util-linux',
          version: '2.38.1-5',
          score: 5.5
        }
      ]
    })
    await stack.admin.post('ecr/scan-scenario', { repository, scenario: 'demo' })
    const scan = await runAction('scan-gate', {
      workspace,
      env,
      inputs: {
        ...auth,
        image: build.outputs['image-ref'],
        'severity-threshold': 'HIGH',
        'sarif-file': 'scan.sarif',
        timeout: '2m'
      }
    })
    mustSucceed('scan-gate', scan)
    report(scan, ['scan-status', 'critical', 'high', 'medium', 'low', 'blocking', 'passed'])

    step('render-task-def: both containers get the new image, pinned by digest')
    const render = await runAction('render-task-def', {
      workspace,
      env,
      inputs: {
        ...auth,
        'task-definition': 'task-definition.json',
        containers: `web: ${build.outputs['image-uri']}\nworker: ${build.outputs['image-uri']}\n`,
        'environment-variables': `RELEASE=${sha.slice(0, 7)}`
      }
    })
    mustSucceed('render-task-def', render)
    const renderedPath = render.outputs['task-definition'] ?? ''
    const rendered = JSON.parse(readFileSync(renderedPath, 'utf8')) as Record<string, unknown>
    writeFileSync(join(OUT, 'task-definition.json'), JSON.stringify(rendered, null, 2))
    const images = (rendered['containerDefinitions'] as { name: string; image: string }[]).map(
      (c) => `${c.name} → ${c.image}`
    )
    for (const line of images) say(`   ${line}`)

    step(
      'ECS: register the revision and roll it out (deploy-ecs lands next; the simulated ECS API is driven directly)'
    )
    const ecs = new ECSClient(stack.clientConfig)
    await stack.admin.post('ecs/seed', {
      clusters: [{ clusterName: 'demo' }],
      taskDefinitions: [rendered],
      services: [
        {
          cluster: 'demo',
          serviceName: 'web',
          taskDefinition: 'shipline-web',
          desiredCount: 2,
          launchType: 'FARGATE',
          networkConfiguration: {
            awsvpcConfiguration: { subnets: ['subnet-0demo'], securityGroups: ['sg-0demo'] }
          },
          deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }
        }
      ]
    })
    const registered = await ecs.send(new RegisterTaskDefinitionCommand(rendered as never))
    const taskDefinitionArn = registered.taskDefinition?.taskDefinitionArn ?? ''
    say(`   registered       ${taskDefinitionArn}`)
    await ecs.send(
      new UpdateServiceCommand({
        cluster: 'demo',
        service: 'web',
        taskDefinition: taskDefinitionArn
      })
    )
    let rollout = 'IN_PROGRESS'
    for (let i = 0; i < 120 && rollout === 'IN_PROGRESS'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      const described = await ecs.send(
        new DescribeServicesCommand({ cluster: 'demo', services: ['web'] })
      )
      const primary = described.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')
      if (primary?.taskDefinition === taskDefinitionArn) rollout = primary.rolloutState ?? rollout
    }
    say(`   rollout          ${rollout}`)
    if (rollout !== 'COMPLETED') throw new Error(`the ECS roll-out ended ${rollout}`)

    const summary = [build, rerun, scan, render].map((r) => r.summary).join('\n')
    writeFileSync(join(OUT, 'summary.md'), summary)
    cpSync(join(workspace, 'scan.sarif'), join(OUT, 'scan.sarif'))
    step('Done')
    say(`   job summaries, the SARIF report and the rendered task definition are in ${OUT}/`)
  } finally {
    await stack.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
