/**
 * The demo's workflow runner (examples/workflow-runner.ts): expressions through @actions/expressions, needs order,
 * outputs between steps, jobs and the workflow, the environment gate, stand-ins, and the runner protocol of local
 * JavaScript actions (INPUT_* with action.yml defaults, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, post).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  evaluate,
  jobOrder,
  loadWorkflow,
  resolveInputs,
  runWorkflow,
  truthy,
  type RunWorkflowOptions
} from '../../../examples/workflow-runner.js'

const created: string[] = []
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true })
})

describe('evaluate (GitHub expressions)', () => {
  const contexts = {
    inputs: { 'build-role-arn': '', target: 'ecs', context: 'app' },
    vars: { SHIPLINE_BUILD_ROLE_ARN: 'arn:aws:iam::1:role/build' },
    steps: { image: { outputs: { 'image-ref': 'r/a@sha256:1' } } }
  }

  it.each([
    ['inputs.build-role-arn || vars.SHIPLINE_BUILD_ROLE_ARN', 'arn:aws:iam::1:role/build'],
    ["format('{0}/Dockerfile', inputs.context)", 'app/Dockerfile'],
    ["inputs.target == 'ECS'", true],
    ["inputs.target == 'eks'", false],
    ['steps.image.outputs.image-ref', 'r/a@sha256:1'],
    ['steps.missing.outputs.x', null],
    ['contains(fromJSON(\'["a","b"]\'), \'b\')', true],
    ['VARS.shipline_build_role_arn', 'arn:aws:iam::1:role/build']
  ])('%s → %j', (expression, expected) => {
    expect(evaluate(expression, contexts)).toEqual(expected)
  })

  it('gives success(), failure() and always() the status of the job so far', () => {
    expect(evaluate("success() && (inputs.target == 'ecs')", contexts)).toBe(true)
    expect(evaluate("success() && (inputs.target == 'ecs')", contexts, { failed: true })).toBe(
      false
    )
    expect(evaluate('failure()', contexts, { failed: true })).toBe(true)
    expect(evaluate('always()', contexts, { failed: true })).toBe(true)
  })

  it('rejects an unknown context', () => {
    expect(() => evaluate('nothing.here', contexts)).toThrow()
  })

  it.each([
    [null, false],
    ['', false],
    [0, false],
    [false, false],
    ['false', true],
    [{}, true],
    [1, true]
  ])('truthy(%j) is %s', (value, expected) => {
    expect(truthy(value)).toBe(expected)
  })
})

describe('jobOrder', () => {
  it('puts every job after the jobs it needs, keeping file order otherwise', () => {
    expect(
      jobOrder([
        { id: 'deploy', needs: ['build', 'test'] },
        { id: 'build', needs: ['test'] },
        { id: 'test', needs: [] },
        { id: 'lint', needs: [] }
      ])
    ).toEqual(['test', 'build', 'deploy', 'lint'])
  })

  it('refuses a cycle and a need that does not exist', () => {
    expect(() =>
      jobOrder([
        { id: 'a', needs: ['b'] },
        { id: 'b', needs: ['a'] }
      ])
    ).toThrow('the needs of a, b form a cycle')
    expect(() => jobOrder([{ id: 'a', needs: ['nope'] }])).toThrow('needs "nope"')
  })
})

describe('resolveInputs', () => {
  const plan = {
    file: 'w.yml',
    inputs: {
      name: { type: 'string', required: true },
      flag: { type: 'boolean', required: false, default: false },
      region: { type: 'string', required: false, default: 'eu-west-1' }
    }
  }
  it('applies defaults and types', () => {
    expect(resolveInputs(plan, { name: 'x', flag: 'true' })).toEqual({
      name: 'x',
      flag: true,
      region: 'eu-west-1'
    })
  })
  it('refuses a missing required input, an unknown one and a wrong type', () => {
    expect(() => resolveInputs(plan, {})).toThrow('the input "name" is required')
    expect(() => resolveInputs(plan, { name: 'x', other: 'y' })).toThrow('unexpected input "other"')
    expect(() => resolveInputs(plan, { name: 'x', flag: 'yes' })).toThrow('must be a boolean')
  })
})

/** A workspace with a local JavaScript action and a reusable workflow that uses it. */
function fixture(workflow: string): { workspace: string; file: string } {
  const workspace = mkdtempSync(join(tmpdir(), 'shipline-wf-test-'))
  created.push(workspace)
  const action = join(workspace, 'tools/greet')
  mkdirSync(action, { recursive: true })
  writeFileSync(
    join(action, 'action.yml'),
    [
      'name: greet',
      'description: greets',
      'inputs:',
      '  who: { description: who, required: true }',
      '  greeting: { description: greeting, default: Hello }',
      'outputs:',
      '  message: { description: the message }',
      'runs:',
      '  using: node24',
      '  main: main.mjs',
      '  post: post.mjs'
    ].join('\n')
  )
  writeFileSync(
    join(action, 'main.mjs'),
    [
      "import { appendFileSync } from 'node:fs'",
      "const who = process.env['INPUT_WHO']",
      "if (who === 'nobody') { console.log('::error::nobody to greet'); process.exit(1) }",
      "console.log('::add-mask::s3cr3t-token')",
      "const message = `${process.env['INPUT_GREETING']}, ${who}`",
      'appendFileSync(process.env.GITHUB_OUTPUT, `message=${message}\\n`)',
      'appendFileSync(process.env.GITHUB_STEP_SUMMARY, `### greet\\n${message}\\n`)',
      "appendFileSync(process.env.GITHUB_STATE, 'greeted=' + who + '\\n')",
      "console.log('token s3cr3t-token')"
    ].join('\n')
  )
  writeFileSync(
    join(action, 'post.mjs'),
    "console.log('post for ' + process.env['STATE_greeted'])\n"
  )
  const file = join(workspace, 'workflow.yml')
  writeFileSync(file, workflow)
  return { workspace, file }
}

const WORKFLOW = `
name: test
on:
  workflow_call:
    inputs:
      who: { type: string, required: true }
      environment: { type: string, required: false, default: staging }
    outputs:
      message: { description: m, value: '\${{ jobs.deploy.outputs.final }}' }
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions: { contents: read }
    outputs:
      message: \${{ steps.greet.outputs.message }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - id: greet
        uses: ./tools/greet
        with:
          who: \${{ inputs.who }}
      - id: shout
        env:
          MESSAGE: \${{ steps.greet.outputs.message }}
        run: |
          echo "loud=\${MESSAGE^^}" >> "$GITHUB_OUTPUT"
          echo "EXPORTED=from-env-file" >> "$GITHUB_ENV"
      - id: exported
        run: echo "seen=$EXPORTED" >> "$GITHUB_OUTPUT"
  deploy:
    needs: build
    runs-on: ubuntu-24.04
    environment:
      name: \${{ inputs.environment }}
    concurrency:
      group: deploy-\${{ github.repository }}-\${{ inputs.environment }}
      cancel-in-progress: false
    outputs:
      final: \${{ steps.final.outputs.text }}
    steps:
      - id: final
        env:
          MESSAGE: \${{ needs.build.outputs.message }}
        run: echo "text=$MESSAGE!" >> "$GITHUB_OUTPUT"
      - id: never
        if: inputs.who == 'nobody'
        run: exit 1
`

async function run(
  who: string,
  extra: Partial<RunWorkflowOptions> = {}
): Promise<Awaited<ReturnType<typeof runWorkflow>>> {
  const { workspace, file } = fixture(WORKFLOW)
  const plan = await loadWorkflow(file)
  return runWorkflow({
    plan,
    inputs: { who },
    workspace,
    github: { repository: 'acme/shop', sha: 'a'.repeat(40), ref: 'refs/heads/main' },
    workflowRepository: 'shipline/shipline',
    workflowSha: 'b'.repeat(40),
    standIns: { 'actions/checkout': () => ({ ref: 'main' }) },
    ...extra
  })
}

describe('runWorkflow', () => {
  it('passes outputs from steps to jobs to the workflow, with the runner protocol of a local action', async () => {
    const result = await run('world')
    expect(result.conclusion).toBe('success')
    expect(result.jobs.map((j) => [j.id, j.result])).toEqual([
      ['build', 'success'],
      ['deploy', 'success']
    ])
    const build = result.jobs[0]!
    const greet = build.steps.find((s) => s.id === 'greet')!
    expect(greet.outputs['message']).toBe('Hello, world') // the action.yml default applied
    expect(greet.summary).toContain('### greet')
    expect(greet.log).toContain('token ***') // masked once the action registered it
    expect(greet.log).not.toContain('token s3cr3t-token')
    expect(build.steps.find((s) => s.id === 'shout')!.outputs['loud']).toBe('HELLO, WORLD')
    expect(build.steps.find((s) => s.id === 'exported')!.outputs['seen']).toBe('from-env-file')
    expect(build.steps.at(-1)!.name).toBe('Post greet')
    expect(build.steps.at(-1)!.log).toContain('post for world')
    expect(build.outputs['message']).toBe('Hello, world')
    expect(result.outputs['message']).toBe('Hello, world!')
    expect(result.standIns).toEqual(['actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683'])
    const deploy = result.jobs[1]!
    expect(deploy.environment).toBe('staging')
    expect(deploy.concurrencyGroup).toBe('deploy-acme/shop-staging')
    expect(deploy.steps.find((s) => s.id === 'never')!.outcome).toBe('skipped')
  })

  it('stops a job at the failing step and skips the jobs that need it', async () => {
    const result = await run('nobody')
    expect(result.conclusion).toBe('failure')
    const build = result.jobs[0]!
    expect(build.result).toBe('failure')
    const greet = build.steps.find((s) => s.id === 'greet')!
    expect(greet.outcome).toBe('failure')
    expect(greet.errors).toEqual(['nobody to greet'])
    expect(build.steps.find((s) => s.id === 'shout')!.outcome).toBe('skipped')
    expect(result.jobs[1]).toMatchObject({ id: 'deploy', result: 'skipped' })
    expect(result.jobs[1]!.reason).toContain('build')
    expect(result.outputs['message']).toBe('')
  })

  it('holds the deploy job at its environment gate and does not run it when rejected', async () => {
    const asked: string[] = []
    const result = await run('world', {
      approve: (environment) => {
        asked.push(environment)
        return false
      }
    })
    expect(asked).toEqual(['staging'])
    expect(result.jobs[1]).toMatchObject({ result: 'failure', steps: [] })
    expect(result.jobs[1]!.reason).toContain('rejected')
    expect(result.conclusion).toBe('failure')
  })

  it('fails a step whose action only exists on GitHub and has no stand-in', async () => {
    const result = await run('world', { standIns: {} })
    const checkout = result.jobs[0]!.steps[0]!
    expect(checkout.outcome).toBe('failure')
    expect(checkout.errors[0]).toContain('only exists on GitHub')
  })
})
