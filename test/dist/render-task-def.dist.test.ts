import { describe, expect, it } from '@jest/globals'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chunksContaining, recordChunks } from '../helpers/loaded-chunks.js'
import { REPO_ROOT, runAction, type RunResult } from '../helpers/runner.js'

const DIGEST = `sha256:${'f'.repeat(64)}`
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
/** An endpoint nobody listens on: any AWS call would fail with a connection error, not an input error. */
const NO_AWS = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }

function workspace(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rtd-dist-'))
  for (const name of ['web.json', 'web.yaml', 'described.json']) {
    copyFileSync(join(REPO_ROOT, 'examples/task-definitions', name), join(dir, name))
  }
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text)
  return dir
}

const rendered = (result: RunResult): Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] } =>
  JSON.parse(readFileSync(result.outputs['task-definition'] as string, 'utf8')) as ReturnType<typeof rendered>

const runnerTempFiles = (result: RunResult): string[] => readdirSync(join(result.dir, 'runner-temp'))

describe('bundled render-task-def', () => {
  it('renders a file into RUNNER_TEMP with the image pinned by digest, and writes a summary', async () => {
    const chunks = recordChunks()
    const result = await runAction('render-task-def', {
      inputs: { 'task-definition': 'web.yaml', 'container-name': 'web', image: `${ECR}/shipline/web:abc1234`, 'image-digest': DIGEST },
      env: { ...NO_AWS, ...chunks.env },
      workspace: workspace()
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    const file = result.outputs['task-definition'] as string
    expect(file.startsWith(join(result.dir, 'runner-temp', 'task-definition-shipline-web-'))).toBe(true)
    const doc = rendered(result)
    expect(doc.containerDefinitions[0]).toMatchObject({ name: 'web', image: `${ECR}/shipline/web@${DIGEST}`, dockerLabels: { 'shipline.image-tag': 'abc1234' } })
    expect(result.summary).toContain('<td>web</td>')
    expect(result.summary).toContain(`${ECR}/shipline/web@${DIGEST}`)
    expect(result.log).not.toMatch(/ECONNREFUSED|AWS identity/)
    // This path calls no AWS API, so it loads no AWS SDK client (each one carries the SigV4 auth scheme id).
    expect(chunks.loaded()).toContain('index.js')
    expect(chunks.loaded().filter((chunk) => chunk !== 'index.js').length).toBeGreaterThan(0)
    const sdkClients = chunksContaining('aws.auth#sigv4')
    expect(sdkClients.length).toBeGreaterThan(0)
    expect(chunks.loaded().filter((chunk) => sdkClients.includes(chunk))).toEqual([])
  })

  it('chains two steps like aws-actions: the second reads the first one’s output', async () => {
    const ws = workspace()
    const first = await runAction('render-task-def', {
      inputs: { 'task-definition': 'web.json', 'container-name': 'web', image: `${ECR}/shipline/web:v2@${DIGEST}` },
      env: NO_AWS,
      workspace: ws
    })
    const second = await runAction('render-task-def', {
      inputs: { 'task-definition': first.outputs['task-definition'], 'container-name': 'worker', image: `${ECR}/shipline/worker:v2@${DIGEST}` },
      // The steps of one job share RUNNER_TEMP, where the first step wrote its output.
      env: { ...NO_AWS, RUNNER_TEMP: join(first.dir, 'runner-temp') },
      workspace: ws
    })
    expect(second.errors).toEqual([])
    const doc = rendered(second)
    expect(doc.containerDefinitions.map((c) => c['image'])).toEqual([`${ECR}/shipline/web@${DIGEST}`, `${ECR}/shipline/worker@${DIGEST}`])
    expect(second.outputs['task-definition']).not.toBe(first.outputs['task-definition'])
    expect(existsSync(first.outputs['task-definition'] as string)).toBe(true)
  })

  it('gives the same bytes for the same inputs', async () => {
    const inputs = { 'task-definition': 'described.json', 'container-name': 'api', image: `${ECR}/shipline/api:v3@${DIGEST}`, 'environment-variables': 'A=1\n-NODE_ENV' }
    const a = await runAction('render-task-def', { inputs, env: NO_AWS, workspace: workspace() })
    const b = await runAction('render-task-def', { inputs, env: NO_AWS, workspace: workspace() })
    expect(readFileSync(a.outputs['task-definition'] as string, 'utf8')).toBe(readFileSync(b.outputs['task-definition'] as string, 'utf8'))
    expect(a.notices.join('\n')).toContain('removed the Describe-only fields')
  })

  it.each([
    [{ 'task-definition': 'web.json', 'container-name': 'api', image: `${ECR}/shipline/api:v1@${DIGEST}` }, 'render-task-def: input "container-name": no container named "api" in task definition "shipline-web". Use one of: "web", "worker".'],
    [{ 'task-definition': 'web.json', 'container-name': 'web', image: `${ECR}/shipline/web:latest` }, 'render-task-def: input "image": '],
    [{ 'task-definition': 'typo.json' }, 'render-task-def: input "task-definition": containerDefinitions[0].imagee is not a valid ContainerDefinition key (did you mean "image"?)'],
    [{ 'task-definition': 'broken.json' }, 'render-task-def: input "task-definition": broken.json: invalid JSON at line 2, column 1: CommaExpected'],
    [{ 'task-definition': 'web.json', 'container-name': 'web', 'pin-digest': 'no' }, 'render-task-def: input "pin-digest": expected true or false, got "no"']
  ])('fails with exit 1, one error and no file for %j', async (inputs, message) => {
    const result = await runAction('render-task-def', {
      inputs,
      env: NO_AWS,
      workspace: workspace({ 'typo.json': JSON.stringify({ family: 'x', containerDefinitions: [{ name: 'a', imagee: 'a:1' }] }), 'broken.json': '{"family": "x"\n"cpu": "1"}' })
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]?.startsWith(message)).toBe(true)
    expect(result.outputs).toEqual({})
    expect(runnerTempFiles(result)).toEqual([])
    expect(result.log).not.toMatch(/ECONNREFUSED|AWS identity/)
  })
})
