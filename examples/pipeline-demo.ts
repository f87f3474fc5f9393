/**
 * The pipeline demo: Shipline's reusable workflow (.github/workflows/pipeline.yml) run by examples/workflow-runner.ts
 * against the local stack (AWS simulator, a real OCI registry, an OIDC issuer) and the real Docker engine, as a
 * caller repository would run it: an ECS target (test → build-tag-push + scan-gate → render-task-def → deploy-ecs)
 * and an EKS target (→ deploy-eks-manifest) when that action and the simulated Kubernetes API exist.
 *
 * Used by `npm run demo` (examples/demo.ts) and by test/e2e/pipeline-workflow.test.ts.
 */
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../packages/sim/src/stack.js'
import { appWorkspace, git } from '../test/helpers/app-workspace.js'
import { REPO_ROOT } from '../test/helpers/runner.js'
import {
  loadWorkflow,
  runWorkflow,
  type StandIn,
  type StepResult,
  type WorkflowResult
} from './workflow-runner.js'

export const PIPELINE = join(REPO_ROOT, '.github/workflows/pipeline.yml')
export const SCENARIOS = ['none', 'crash', 'cve'] as const
export type Scenario = (typeof SCENARIOS)[number]

export interface DemoOptions {
  scenario?: Scenario
  /** Simulated-clock speed (default 20). */
  speed?: number
  /** The environment's protection rules (default: approve, printing the gate). */
  approve?: (environment: string) => Promise<boolean> | boolean
  log?: (line: string) => void
  /** Print job summaries rendered for a terminal (default true). */
  summaries?: boolean
}

export interface DemoResult {
  ecs: WorkflowResult
  /** The EKS run, or why it was skipped. */
  eks: WorkflowResult | { skipped: string }
  /** Every uses: that ran as a local stand-in for a GitHub-only action. */
  standIns: string[]
  /** What the runner explained at the end (rollback, blocked scan…), for the caller to print. */
  verdict: string
  /** Every AWS API call the actions made, by action (from the assumed-role session name), as IAM actions. */
  calls: AwsCall[]
}

export interface AwsCall {
  /** The Shipline action that made the call (the role session is named shipline-<action>-<run>-<attempt>). */
  action: string
  /** IAM action, e.g. ecr:DescribeImages. */
  iamAction: string
}

/** The IAM prefix of each simulated service (its signing name). */
const IAM_PREFIX: Record<string, string> = { elasticloadbalancing: 'elasticloadbalancing' }
const ACTIONS = [
  'build-tag-push',
  'scan-gate',
  'render-task-def',
  'deploy-ecs',
  'deploy-eks-manifest'
]

/** The stack's request log as IAM actions per Shipline action (sorted, unique). */
export function awsCalls(stack: SimStack): AwsCall[] {
  const seen = new Map<string, AwsCall>()
  for (const entry of stack.requestLog({ kind: 'aws' })) {
    const session = /:assumed-role\/[^/]+\/shipline-(.+)-\d+-\d+$/.exec(entry.callerArn ?? '')?.[1]
    const action = ACTIONS.find((name) => session === name)
    if (!action) continue
    const iamAction = `${IAM_PREFIX[entry.service] ?? entry.service}:${entry.operation}`
    seen.set(`${action} ${iamAction}`, { action, iamAction })
  }
  return [...seen.values()].sort((a, b) =>
    `${a.action} ${a.iamAction}`.localeCompare(`${b.action} ${b.iamAction}`)
  )
}

const REPOSITORY = 'shipline/web'
const CLUSTER = 'demo'
const SERVICE = 'web'
const FAMILY = 'shipline-web'

/** Markdown/HTML job summary → plain terminal text. */
export function renderSummary(markdown: string): string {
  return markdown
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<\/?(code|b|strong|em|i|a|span|sup|sub)[^>]*>/gi, '')
    .replace(/<\/(p|div|h\d|li|tr|table|details|summary)>/gi, '\n')
    .replace(/<\/t[dh]>/gi, ' | ')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/^#{1,6}\s*/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

/** Why the EKS job cannot run here, or undefined when it can. */
export function eksUnavailable(): string | undefined {
  const bundle = join(REPO_ROOT, 'dist/deploy-eks-manifest/index.js')
  if (!existsSync(bundle)) return 'dist/deploy-eks-manifest is missing (npm run bundle)'
  if (readFileSync(bundle, 'utf8').includes('is not implemented yet'))
    return 'deploy-eks-manifest is not implemented on this commit: its bundle is a stub'
  return undefined
}

/**
 * Seeds EKS cluster "demo": the local stack starts a Kubernetes API for it (HTTPS, its own CA, returned by
 * DescribeCluster) with an access entry for the deploy role. Images pushed to the stack's registry run there.
 */
async function seedEks(stack: SimStack): Promise<void> {
  await stack.admin.post('eks/seed', {
    clusters: [
      {
        name: 'demo',
        authenticationMode: 'API',
        accessEntries: [
          {
            principalArn: stack.roleArn,
            policies: [
              {
                policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
                accessScope: { type: 'namespace', namespaces: ['default'] }
              }
            ]
          }
        ]
      }
    ]
  })
}

/** The caller repository: the example app, a one-container task definition and a Kubernetes manifest. */
function callerWorkspace(stack: SimStack, executionRoleArn: string): { dir: string; sha: string } {
  const { dir } = appWorkspace({ appDir: 'app' })
  const template = JSON.parse(
    readFileSync(join(REPO_ROOT, 'examples/task-definitions/web.json'), 'utf8')
  ) as { containerDefinitions: Record<string, unknown>[] } & Record<string, unknown>
  const web = template.containerDefinitions.find((c) => c['name'] === 'web') as Record<
    string,
    unknown
  >
  delete web['healthCheck']
  const taskDefinition = {
    ...template,
    executionRoleArn,
    containerDefinitions: [
      {
        ...web,
        image: `${stack.accountId}.dkr.ecr.${stack.region}.amazonaws.com/${REPOSITORY}:placeholder`,
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': `/ecs/${FAMILY}`,
            'awslogs-region': stack.region,
            'awslogs-stream-prefix': 'web'
          }
        }
      }
    ]
  }
  mkdirSync(join(dir, 'deploy'), { recursive: true })
  writeFileSync(join(dir, 'deploy/task-definition.json'), JSON.stringify(taskDefinition, null, 2))
  writeFileSync(
    join(dir, 'deploy/web.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: { name: web }',
      'spec:',
      '  replicas: 2',
      '  selector: { matchLabels: { app: web } }',
      '  template:',
      '    metadata: { labels: { app: web } }',
      '    spec:',
      '      containers:',
      `        - { name: web, image: ${stack.registryHost}/${REPOSITORY}:placeholder, ports: [{ containerPort: 8080 }] }`,
      ''
    ].join('\n')
  )
  writeFileSync(join(dir, '.gitignore'), '.shipline/\n')
  git(dir, ['add', '-A'])
  git(dir, ['commit', '-q', '-m', 'deploy files'])
  return { dir, sha: git(dir, ['rev-parse', 'HEAD']) }
}

/**
 * Stand-ins for the actions that only exist on GitHub. actions/checkout of the caller's repository: the workspace
 * already is that checkout. actions/checkout of job.workflow_repository at job.workflow_sha: Shipline's action.yml
 * files and bundles from this working tree (the workflow's own commit) into the requested path.
 */
function standIns(workflowRepository: string): Record<string, StandIn> {
  return {
    'actions/checkout': ({ with: given, workspace, log }) => {
      if (given['repository'] !== workflowRepository) {
        log('the workspace already is the caller repository checkout')
        return { ref: 'main' }
      }
      const target = join(workspace, given['path'] || '.')
      rmSync(target, { recursive: true, force: true })
      for (const name of readdirSync(join(REPO_ROOT, 'actions'))) {
        if (!existsSync(join(REPO_ROOT, 'actions', name, 'action.yml'))) continue
        mkdirSync(join(target, 'actions', name), { recursive: true })
        cpSync(
          join(REPO_ROOT, 'actions', name, 'action.yml'),
          join(target, 'actions', name, 'action.yml')
        )
      }
      // dist/<action>/index.js runs code from dist/_shared/ (one build of every action): copy all of dist/.
      if (existsSync(join(REPO_ROOT, 'dist')))
        cpSync(join(REPO_ROOT, 'dist'), join(target, 'dist'), { recursive: true })
      log(`${workflowRepository}@${given['ref']} (this working tree) → ${given['path']}`)
      return { ref: given['ref'] ?? '' }
    },
    'actions/setup-node': ({ with: given, log }) => {
      log(`node-version ${given['node-version']}: this machine's Node ${process.version} stands in`)
    }
  }
}

async function seed(stack: SimStack, scenario: Scenario): Promise<string> {
  const roles = await stack.admin.post<{ roles: string[] }>('iam/seed', {
    roles: [{ name: 'shipline-task-execution' }]
  })
  const executionRoleArn = roles.roles[0] as string
  await stack.admin.post('logs/seed', { logGroups: [{ name: `/ecs/${FAMILY}` }] })
  // The team's service before this pipeline: revision 1 of the family, running a previously released image.
  const previous = 'public.ecr.aws/shipline/web:previous'
  await stack.admin.post('ecs/images', { images: [previous] })
  await stack.admin.post('ecs/seed', {
    clusters: [CLUSTER],
    taskDefinitions: [
      {
        family: FAMILY,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        executionRoleArn,
        containerDefinitions: [
          { name: 'web', image: previous, essential: true, portMappings: [{ containerPort: 8080 }] }
        ]
      }
    ],
    services: [
      {
        cluster: CLUSTER,
        serviceName: SERVICE,
        taskDefinition: FAMILY,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: {
          awsvpcConfiguration: { subnets: ['subnet-0demo'], securityGroups: ['sg-0demo'] }
        },
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }
      }
    ]
  })
  // The repository exists (an earlier pipeline created it) so the scan scenario can be assigned up front.
  const ecr = new ECRClient({ ...stack.clientConfig })
  await ecr.send(
    new CreateRepositoryCommand({
      repositoryName: REPOSITORY,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true }
    })
  )
  ecr.destroy()
  const findings = [
    {
      id: 'CVE-2023-5678',
      severity: 'MEDIUM',
      package: 'openssl',
      version: '3.0.11-1',
      score: 5.3
    },
    { id: 'CVE-2022-0563', severity: 'LOW', package: 'util-linux', version: '2.38.1-5', score: 5.5 }
  ]
  if (scenario === 'cve')
    findings.push({
      id: 'CVE-2024-3094',
      severity: 'CRITICAL',
      package: 'xz-utils',
      version: '5.6.0-0.2',
      score: 10
    })
  await stack.admin.post('ecr/scenarios', { name: 'demo', findings })
  await stack.admin.post('ecr/scan-scenario', { repository: REPOSITORY, scenario: 'demo' })
  // The new revision (2) crashes on start: the circuit breaker rolls the service back to revision 1.
  if (scenario === 'crash')
    await stack.admin.post('ecs/scenario', {
      taskDefinition: `${FAMILY}:2`,
      behaviour: 'crash',
      exitCode: 3
    })
  return executionRoleArn
}

function stepLine(step: StepResult): string {
  const mark = step.outcome === 'success' ? '✓' : step.outcome === 'failure' ? '✗' : '·'
  const kind = step.kind === 'stand-in' ? ' (stand-in: only exists on GitHub)' : ''
  return `   ${mark} ${step.name}${kind}${step.outcome === 'skipped' ? ' — skipped' : ''}`
}

const SHOWN_OUTPUTS = [
  'image-ref',
  'built',
  'scan-status',
  'blocking',
  'task-definition',
  'task-definition-arn',
  'deployment-id',
  'status'
]

export async function runPipelineDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const say = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const scenario = options.scenario ?? 'none'
  const plan = await loadWorkflow(PIPELINE)
  const workflowRepository = 'shipline/shipline'
  const workflowSha = git(REPO_ROOT, ['rev-parse', 'HEAD'])
  const stack = await startStack({ speed: options.speed ?? 20 })
  const builtImages: string[] = []
  const workspaces: string[] = []
  try {
    say(`   AWS endpoint     ${stack.endpoint}`)
    say(`   registry         ${stack.registryHost}`)
    say(
      `   roles            ${stack.roleArn} (vars.SHIPLINE_BUILD_ROLE_ARN / SHIPLINE_DEPLOY_ROLE_ARN, through OIDC)`
    )
    const executionRoleArn = await seed(stack, scenario)
    say(`   ECS              cluster ${CLUSTER}, service ${SERVICE} running ${FAMILY}:1 (2 tasks)`)

    const run = async (target: 'ecs' | 'eks', environment: string): Promise<WorkflowResult> => {
      const { dir, sha } = callerWorkspace(stack, executionRoleArn)
      workspaces.push(dir)
      const targetInputs: Record<string, string> =
        target === 'ecs'
          ? {
              cluster: CLUSTER,
              service: SERVICE,
              'task-definition': 'deploy/task-definition.json',
              'container-name': 'web'
            }
          : { 'cluster-name': 'demo', manifests: 'deploy/web.yaml', namespace: 'default' }
      say(
        `\n━━ pipeline.yml, target ${target}, environment ${environment} (caller commit ${sha.slice(0, 7)})`
      )
      const result = await runWorkflow({
        plan,
        inputs: {
          environment,
          'aws-region': stack.region,
          repository: REPOSITORY,
          context: 'app',
          'test-command': 'test -s app/www/index.html && grep -q ok app/www/healthz',
          'node-version': '20',
          'severity-threshold': 'HIGH',
          target,
          'wait-timeout': '10m',
          ...targetInputs
        },
        workspace: dir,
        github: {
          repository: 'acme/shop',
          repository_owner: 'acme',
          sha,
          ref: 'refs/heads/main',
          ref_name: 'main',
          event_name: 'push',
          actor: 'octocat',
          workflow: 'deploy',
          run_id: '4242',
          run_attempt: '1',
          server_url: 'https://github.com'
        },
        vars: { SHIPLINE_BUILD_ROLE_ARN: stack.roleArn, SHIPLINE_DEPLOY_ROLE_ARN: stack.roleArn },
        workflowRepository,
        workflowSha,
        env: { ...stack.env },
        standIns: standIns(workflowRepository),
        approve: options.approve ?? (() => true),
        log: (line) => say(line),
        onStep: (_job, step) => {
          say(stepLine(step))
          for (const key of SHOWN_OUTPUTS)
            if (step.outputs[key] !== undefined)
              say(`       ${key.padEnd(20)} ${step.outputs[key]}`)
          for (const warning of step.warnings) say(`       ⚠ ${warning}`)
          for (const error of step.errors) say(`       ✗ ${error.split('\n')[0]}`)
          // Every tag build-tag-push left in the local engine, removed (untagged) at the end.
          const repositoryUri = step.outputs['repository-uri']
          if (repositoryUri && step.outputs['tags'])
            for (const tag of JSON.parse(step.outputs['tags']) as string[])
              builtImages.push(`${repositoryUri}:${tag}`)
        }
      })
      if (options.summaries !== false) {
        for (const job of result.jobs) {
          const summaries = job.steps.map((s) => s.summary).filter((s) => s.trim())
          if (!summaries.length) continue
          say(`\n── job summary: ${job.name}`)
          for (const summary of summaries) say(renderSummary(summary).replace(/^/gm, '   '))
        }
      }
      say(`\n   workflow outputs: ${JSON.stringify(result.outputs)}`)
      say(`   result: ${result.conclusion}`)
      return result
    }

    const ecs = await run('ecs', 'production')
    let eks: DemoResult['eks']
    const reason = eksUnavailable()
    if (reason) {
      eks = { skipped: reason }
      say(`\n━━ pipeline.yml, target eks: skipped — ${reason}`)
    } else {
      await seedEks(stack)
      eks = await run('eks', 'production')
    }
    const standInsUsed = [
      ...new Set([...ecs.standIns, ...('jobs' in eks ? eks.standIns : [])])
    ].sort()
    return { ecs, eks, standIns: standInsUsed, verdict: verdict(ecs), calls: awsCalls(stack) }
  } finally {
    await stack.stop()
    for (const dir of workspaces) rmSync(dir, { recursive: true, force: true })
    for (const image of new Set(builtImages)) {
      try {
        execFileSync('docker', ['rmi', image], { stdio: 'ignore' })
      } catch {
        // best effort: the image may already be gone
      }
    }
  }
}

/** One sentence on how the ECS run ended. */
export function verdict(result: WorkflowResult): string {
  const build = result.jobs.find((j) => j.id === 'build')
  const deploy = result.jobs.find((j) => j.id === 'deploy')
  const scan = build?.steps.find((s) => s.id === 'scan')
  if (scan?.outcome === 'failure')
    return `the scan gate blocked the image (${scan.outputs['blocking'] ?? '?'} blocking finding(s)); the deploy job did not run: ${deploy?.reason ?? ''}`
  const step = deploy?.steps.find((s) => s.id === 'deploy-ecs')
  if (step?.outcome === 'failure')
    return `the deployment failed with status ${step.outputs['status'] ?? '?'}: ${step.errors.join(' ')}`
  if (result.conclusion === 'success')
    return `deployed ${result.outputs['task-definition-arn'] ?? ''} (${result.outputs['deployment-status'] ?? ''})`
  const failed = result.jobs.find((j) => j.result === 'failure')
  return `job ${failed?.name ?? '?'} failed: ${failed?.reason ?? failed?.steps.flatMap((s) => s.errors).join(' ') ?? ''}`
}
