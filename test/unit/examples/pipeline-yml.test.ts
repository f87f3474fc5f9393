/**
 * pipeline.yml's own logic, run by the workflow runner with stand-in action bundles (no Docker, no AWS): which
 * steps run for each target, which inputs reach each action (the role fallback to vars, the image by digest through
 * needs), the input checks of the test job, and the workflow outputs. The real bundles run in
 * test/e2e/pipeline-workflow.test.ts.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../../helpers/runner.js'
import {
  loadWorkflow,
  runWorkflow,
  type StandIn,
  type WorkflowResult
} from '../../../examples/workflow-runner.js'

const created: string[] = []
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true })
})

/** A bundle that records its INPUT_* variables and answers with fixed outputs per action. */
const FAKE_MAIN = `
import { appendFileSync } from 'node:fs'

const name = process.argv[1].split('/').at(-2)
// The post step (build-tag-push has one) runs the same file again, with the state the main step saved.
if (process.env.STATE_ran) process.exit(0)
appendFileSync(process.env.GITHUB_STATE, 'ran=1\\n')
const inputs = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('INPUT_')))
appendFileSync(process.env.CALLS_FILE, JSON.stringify({ name, inputs }) + '\\n')
const outputs = {
  'build-tag-push': { 'image-uri': 'r/shop/api:abc1234', 'image-ref': 'r/shop/api@sha256:' + 'a'.repeat(64), 'image-digest': 'sha256:' + 'a'.repeat(64) },
  'scan-gate': { passed: process.env.FAKE_SCAN_FAILS ? 'false' : 'true', blocking: process.env.FAKE_SCAN_FAILS ? '1' : '0' },
  'render-task-def': { 'task-definition': '/tmp/rendered.json' },
  'deploy-ecs': { 'task-definition-arn': 'arn:aws:ecs:eu-west-1:1:task-definition/api:7', status: 'SUCCESSFUL', 'service-url': 'https://console.aws.amazon.com/ecs/x' },
  'deploy-eks-manifest': { status: 'SUCCESSFUL' }
}[name]
for (const [k, v] of Object.entries(outputs)) appendFileSync(process.env.GITHUB_OUTPUT, k + '=' + v + '\\n')
if (name === 'scan-gate' && process.env.FAKE_SCAN_FAILS) { console.log('::error::blocked'); process.exit(1) }
`

const checkout: StandIn = ({ with: given, workspace }) => {
  if (given['repository'] !== 'shipline/shipline') return
  const target = join(workspace, given['path'] ?? '.')
  for (const name of readdirSync(join(REPO_ROOT, 'actions'))) {
    if (!existsSync(join(REPO_ROOT, 'actions', name, 'action.yml'))) continue
    mkdirSync(join(target, 'actions', name), { recursive: true })
    mkdirSync(join(target, 'dist', name), { recursive: true })
    cpSync(
      join(REPO_ROOT, 'actions', name, 'action.yml'),
      join(target, 'actions', name, 'action.yml')
    )
    writeFileSync(join(target, 'dist', name, 'index.js'), FAKE_MAIN)
    writeFileSync(join(target, 'dist', name, 'package.json'), '{"type":"module"}')
  }
}

interface Call {
  name: string
  inputs: Record<string, string>
}

async function pipeline(
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): Promise<{ result: WorkflowResult; calls: Call[] }> {
  const workspace = mkdtempSync(join(tmpdir(), 'shipline-pipeline-yml-'))
  created.push(workspace)
  const callsFile = `${workspace}.calls`
  created.push(callsFile)
  writeFileSync(callsFile, '')
  const result = await runWorkflow({
    plan: await loadWorkflow(join(REPO_ROOT, '.github/workflows/pipeline.yml')),
    inputs: {
      'aws-region': 'eu-west-1',
      repository: 'shop/api',
      environment: 'staging',
      ...inputs
    },
    workspace,
    github: { repository: 'acme/shop', sha: 'c'.repeat(40), ref: 'refs/heads/main' },
    vars: {
      SHIPLINE_BUILD_ROLE_ARN: 'arn:aws:iam::1:role/build',
      SHIPLINE_DEPLOY_ROLE_ARN: 'arn:aws:iam::1:role/deploy-staging'
    },
    workflowRepository: 'shipline/shipline',
    workflowSha: 'd'.repeat(40),
    env: { CALLS_FILE: callsFile, ...env },
    standIns: { 'actions/checkout': checkout, 'actions/setup-node': () => undefined }
  })
  const calls = readFileSync(callsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Call)
  return { result, calls }
}

const ECS = {
  target: 'ecs',
  cluster: 'prod',
  service: 'api',
  'task-definition': 'deploy/td.json',
  'container-name': 'api'
}

describe('pipeline.yml (stand-in bundles)', () => {
  it('ECS: build-tag-push → scan-gate → render-task-def → deploy-ecs, roles from vars, the image by digest', async () => {
    const { result, calls } = await pipeline(ECS)
    const failed = result.jobs.flatMap((j) => j.steps).filter((s) => s.outcome === 'failure')
    expect(failed.map((s) => [s.name, s.log])).toEqual([])
    expect(result.conclusion).toBe('success')
    expect(calls.map((c) => c.name)).toEqual([
      'build-tag-push',
      'scan-gate',
      'render-task-def',
      'deploy-ecs'
    ])
    const [build, scan, render, deploy] = calls as [Call, Call, Call, Call]
    expect(build.inputs).toMatchObject({
      'INPUT_ROLE-TO-ASSUME': 'arn:aws:iam::1:role/build',
      'INPUT_AWS-REGION': 'eu-west-1',
      INPUT_REPOSITORY: 'shop/api',
      INPUT_CONTEXT: '.',
      'INPUT_CREATE-REPOSITORY': 'true' // action.yml defaults apply
    })
    expect(scan.inputs).toMatchObject({
      INPUT_IMAGE: `r/shop/api@sha256:${'a'.repeat(64)}`,
      'INPUT_SEVERITY-THRESHOLD': 'CRITICAL',
      INPUT_DOCKERFILE: './Dockerfile'
    })
    expect(render.inputs).toMatchObject({
      'INPUT_ROLE-TO-ASSUME': 'arn:aws:iam::1:role/deploy-staging',
      'INPUT_TASK-DEFINITION': 'deploy/td.json',
      'INPUT_CONTAINER-NAME': 'api',
      INPUT_IMAGE: `r/shop/api@sha256:${'a'.repeat(64)}`,
      'INPUT_IMAGE-DIGEST': `sha256:${'a'.repeat(64)}`
    })
    expect(deploy.inputs).toMatchObject({
      INPUT_CLUSTER: 'prod',
      INPUT_SERVICE: 'api',
      'INPUT_TASK-DEFINITION': '/tmp/rendered.json',
      'INPUT_WAIT-TIMEOUT': '30m'
    })
    expect(result.outputs).toEqual({
      'image-ref': `r/shop/api@sha256:${'a'.repeat(64)}`,
      'image-digest': `sha256:${'a'.repeat(64)}`,
      'task-definition-arn': 'arn:aws:ecs:eu-west-1:1:task-definition/api:7',
      'deployment-status': 'SUCCESSFUL'
    })
    const deployJob = result.jobs.find((j) => j.id === 'deploy')
    expect(deployJob?.environment).toBe('staging')
    expect(deployJob?.environmentUrl).toBe('https://console.aws.amazon.com/ecs/x')
    // No test-command: the test job only checks the inputs.
    expect(result.jobs[0]?.steps.map((s) => s.outcome)).toEqual([
      'success',
      'skipped',
      'skipped',
      'skipped'
    ])
  })

  it('EKS: deploy-eks-manifest instead of render-task-def + deploy-ecs; an explicit role beats vars', async () => {
    const { result, calls } = await pipeline({
      target: 'eks',
      'cluster-name': 'prod',
      manifests: 'deploy/k8s/',
      namespace: 'shop',
      'deploy-role-arn': 'arn:aws:iam::1:role/explicit'
    })
    expect(result.conclusion).toBe('success')
    expect(calls.map((c) => c.name)).toEqual(['build-tag-push', 'scan-gate', 'deploy-eks-manifest'])
    expect(calls[2]?.inputs).toMatchObject({
      'INPUT_CLUSTER-NAME': 'prod',
      INPUT_MANIFESTS: 'deploy/k8s/',
      INPUT_NAMESPACE: 'shop',
      INPUT_IMAGES: `r/shop/api@sha256:${'a'.repeat(64)}`,
      'INPUT_ROLE-TO-ASSUME': 'arn:aws:iam::1:role/explicit'
    })
    expect(result.outputs['deployment-status']).toBe('SUCCESSFUL')
    expect(result.outputs['task-definition-arn']).toBe('')
  })

  it('runs test-command through env, and a failing test stops everything', async () => {
    const ok = await pipeline({ ...ECS, 'test-command': 'test "$(echo $((6 * 7)))" = 42' })
    // node-version is empty: setup-node is skipped.
    expect(ok.result.jobs[0]?.steps.map((s) => s.outcome)).toEqual([
      'success',
      'success',
      'skipped',
      'success'
    ])
    const failing = await pipeline({ ...ECS, 'test-command': 'exit 3' })
    expect(failing.result.jobs.map((j) => j.result)).toEqual(['failure', 'skipped', 'skipped'])
    expect(failing.calls).toEqual([])
  })

  it('a blocked scan stops before the deploy job', async () => {
    const { result, calls } = await pipeline(ECS, { FAKE_SCAN_FAILS: '1' })
    expect(calls.map((c) => c.name)).toEqual(['build-tag-push', 'scan-gate'])
    expect(result.jobs.map((j) => j.result)).toEqual(['success', 'failure', 'skipped'])
  })

  it.each([
    [{ target: 'lambda' }, 'input "target": expected ecs or eks, got "lambda"'],
    [
      { target: 'ecs', service: 'api' },
      'target ecs needs the inputs "service" and "task-definition"'
    ],
    [
      { target: 'eks', 'cluster-name': 'prod' },
      'target eks needs the inputs "cluster-name" and "manifests"'
    ],
    [
      { ...ECS, 'deploy-strategy': 'big-bang' },
      'input "deploy-strategy": expected auto, rolling, blue-green, canary or linear, got "big-bang"'
    ],
    [
      { target: 'eks', 'cluster-name': 'prod', manifests: 'k8s/', 'deploy-strategy': 'canary' },
      'input "deploy-strategy": target eks deploys with a rolling update (auto or rolling), got "canary"'
    ]
  ])('refuses %j before building anything', async (inputs, message) => {
    const { result, calls } = await pipeline(inputs)
    expect(calls).toEqual([])
    expect(result.jobs[0]?.steps[0]?.errors).toEqual([`shipline-pipeline: ${message}`])
    expect(result.conclusion).toBe('failure')
  })

  it('refuses a caller without a required input', async () => {
    await expect(
      runWorkflow({
        plan: await loadWorkflow(join(REPO_ROOT, '.github/workflows/pipeline.yml')),
        inputs: { 'aws-region': 'eu-west-1', repository: 'shop/api', target: 'ecs' },
        workspace: tmpdir(),
        github: {},
        workflowRepository: 'shipline/shipline',
        workflowSha: 'd'.repeat(40)
      })
    ).rejects.toThrow('the input "environment" is required')
  })
})
