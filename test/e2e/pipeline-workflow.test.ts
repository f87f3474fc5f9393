/**
 * The reusable workflow itself (.github/workflows/pipeline.yml), run by the demo's workflow runner against the local
 * stack and the real Docker engine: every Shipline step from its bundle, jobs in needs order, the environment gate,
 * outputs from steps to jobs to the workflow. The ECS path goes green; a critical CVE stops before the deploy job; a
 * crashing revision is rolled back and reported as a failure.
 */
import { describe, expect, it, jest } from '@jest/globals'
import { runPipelineDemo, type DemoResult } from '../../examples/pipeline-demo.js'
import { uncovered } from '../helpers/iam-coverage.js'
import type { JobResult, WorkflowResult } from '../../examples/workflow-runner.js'

jest.setTimeout(240_000)

const job = (result: WorkflowResult, id: string): JobResult => {
  const found = result.jobs.find((j) => j.id === id)
  if (!found) throw new Error(`no job ${id}`)
  return found
}
const stepIds = (j: JobResult, outcome: string): string[] =>
  j.steps.filter((s) => s.outcome === outcome).map((s) => s.id)

async function demo(
  scenario: 'none' | 'crash' | 'cve'
): Promise<{ result: DemoResult; log: string[]; gates: string[] }> {
  const log: string[] = []
  const gates: string[] = []
  const result = await runPipelineDemo({
    scenario,
    speed: 40,
    summaries: false,
    log: (line) => log.push(line),
    approve: (environment) => {
      gates.push(environment)
      return true
    }
  })
  return { result, log, gates }
}

describe('pipeline.yml through the workflow runner (ECS, then EKS target)', () => {
  it('runs test → build-tag-push + scan-gate → render-task-def → deploy-ecs, then → deploy-eks-manifest, green behind the environment gate', async () => {
    const { result, log, gates } = await demo('none')
    const ecs = result.ecs
    expect(ecs.jobs.map((j) => [j.id, j.result])).toEqual([
      ['test', 'success'],
      ['build', 'success'],
      ['deploy', 'success']
    ])
    expect(gates).toEqual(['production', 'production'])
    expect(stepIds(job(ecs, 'build'), 'success')).toEqual(expect.arrayContaining(['image', 'scan']))
    expect(stepIds(job(ecs, 'deploy'), 'success')).toEqual(
      expect.arrayContaining(['render', 'deploy-ecs'])
    )
    expect(stepIds(job(ecs, 'deploy'), 'skipped')).toEqual(['deploy-eks'])
    expect(job(ecs, 'deploy').concurrencyGroup).toBe('shipline-deploy-acme/shop-production')
    // Outputs flowed: the build job's image-ref reached render-task-def through needs, and the workflow outputs.
    expect(ecs.outputs['image-ref']).toMatch(/\/shipline\/web@sha256:[0-9a-f]{64}$/)
    expect(ecs.outputs['image-digest']).toBe(ecs.outputs['image-ref']?.split('@')[1])
    expect(ecs.outputs['task-definition-arn']).toMatch(/:task-definition\/shipline-web:2$/)
    expect(ecs.outputs['deployment-status']).toBe('SUCCESSFUL')
    expect(job(ecs, 'deploy').environmentUrl).toContain('console.aws.amazon.com')
    expect(result.standIns.map((s) => s.split('@')[0])).toEqual([
      'actions/checkout',
      'actions/setup-node'
    ])
    expect(log.join('\n')).toContain('environment "production": approved')
    // The EKS run: the same workflow with target eks rolls the image out to the stack's Kubernetes API.
    if ('skipped' in result.eks) throw new Error(`EKS run skipped: ${result.eks.skipped}`)
    const eksRun = result.eks
    expect(eksRun.conclusion).toBe('success')
    expect(stepIds(job(eksRun, 'deploy'), 'success')).toEqual(
      expect.arrayContaining(['deploy-eks'])
    )
    expect(stepIds(job(eksRun, 'deploy'), 'skipped')).toEqual(
      expect.arrayContaining(['render', 'deploy-ecs'])
    )
    expect(eksRun.outputs['deployment-status']).toBe('SUCCESSFUL')
    // Every AWS operation each action called is allowed by that action's least-privilege policy (docs/iam/).
    expect(new Set(result.calls.map((c) => c.action))).toEqual(
      new Set(['build-tag-push', 'scan-gate', 'deploy-ecs', 'deploy-eks-manifest'])
    )
    expect(result.calls.map((c) => c.iamAction)).toEqual(
      expect.arrayContaining(['ecr:PutImage', 'ecr:DescribeImageScanFindings', 'ecs:UpdateService'])
    )
    expect(uncovered(result.calls)).toEqual([])
    expect(result.calls.map((c) => c.iamAction)).toContain('eks:DescribeCluster')
  })

  it('stops a critical CVE at the scan gate: the deploy job never runs', async () => {
    const { result, gates } = await demo('cve')
    const ecs = result.ecs
    expect(ecs.conclusion).toBe('failure')
    const build = job(ecs, 'build')
    expect(build.result).toBe('failure')
    const scan = build.steps.find((s) => s.id === 'scan')
    expect(scan?.outcome).toBe('failure')
    expect(scan?.outputs['blocking']).toBe('1')
    expect(scan?.errors.join('\n')).toContain('CVE-2024-3094')
    expect(job(ecs, 'deploy')).toMatchObject({ result: 'skipped', steps: [] })
    expect(gates).toEqual([])
    expect(ecs.outputs['task-definition-arn']).toBe('')
    expect(result.verdict).toContain('scan gate blocked')
    expect(result.calls.filter((c) => c.action === 'deploy-ecs')).toEqual([])
    expect(uncovered(result.calls)).toEqual([])
  })

  it('reports a crashing revision rolled back by the circuit breaker as a failed deploy', async () => {
    const { result } = await demo('crash')
    const ecs = result.ecs
    expect(ecs.conclusion).toBe('failure')
    const deploy = job(ecs, 'deploy').steps.find((s) => s.id === 'deploy-ecs')
    expect(deploy?.outcome).toBe('failure')
    expect(deploy?.outputs['status']).toBe('ROLLED_BACK')
    expect(deploy?.errors.join('\n')).toMatch(
      /ROLLED_BACK: ECS (rolled|is rolling) the deployment back/
    )
    expect(result.verdict).toContain('ROLLED_BACK')
    expect(result.calls.map((c) => c.iamAction)).toContain('ecs:DescribeServiceDeployments')
    expect(uncovered(result.calls)).toEqual([])
  })
})
