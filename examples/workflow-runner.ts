/**
 * A small local runner for Shipline's reusable workflow: it runs `.github/workflows/pipeline.yml` ITSELF, not a
 * copy of it. The file is parsed and validated by GitHub's own `@actions/workflow-parser`, every `${{ }}` is
 * evaluated by `@actions/expressions`, jobs run in `needs` order, and each step runs as the GitHub runner runs it:
 *
 * - `uses: ./<path>`: the local action's action.yml is read, its defaults applied, and `runs.main` (then `runs.post`
 *   at the end of the job) started with node, INPUT_* variables and the runner's file commands (GITHUB_OUTPUT,
 *   GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_STATE);
 * - `run:`: a bash script with the step's env and the same file commands;
 * - any other `uses:` (actions/checkout, actions/setup-node…) only exists on GitHub: the caller supplies a stand-in,
 *   and every stand-in used is listed in the result.
 *
 * A job with an `environment` waits on an approval gate (the caller's `approve` callback stands for the
 * environment's protection rules). Outputs flow from steps to jobs (`steps.<id>.outputs`, `needs.<job>.outputs`) and
 * from jobs to the workflow's `on.workflow_call.outputs`.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import type { ExpressionData } from '@actions/expressions/data/index'
import type { FunctionDefinition } from '@actions/expressions/funcs/info'
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow
} from '@actions/workflow-parser'
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token'
import { parse as parseYaml } from 'yaml'
import { commandLines, parseFileCommands } from '../test/helpers/runner.js'

// ---------------------------------------------------------------------------------------------- expressions

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value }
export type Contexts = Record<string, Value>

/** The job/step status functions; everything else (format, contains, toJSON…) is built into the evaluator. */
export interface Status {
  failed: boolean
  cancelled?: boolean
}

const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'] as const

function statusFunctions(status: Status): Map<string, FunctionDefinition> {
  const ok = !status.failed && !status.cancelled
  const results: Record<(typeof STATUS_FUNCTIONS)[number], boolean> = {
    success: ok,
    failure: status.failed,
    always: true,
    cancelled: status.cancelled ?? false
  }
  return new Map(
    STATUS_FUNCTIONS.map((name) => [
      name,
      { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(results[name]) }
    ])
  )
}

function toData(value: Value): ExpressionData {
  return JSON.parse(JSON.stringify(value), data.reviver) as ExpressionData
}

function fromData(value: ExpressionData): Value {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? 'null') as Value
}

/** Evaluates one expression (the text inside `${{ }}`) against the contexts. */
export function evaluate(
  expression: string,
  contexts: Contexts,
  status: Status = { failed: false }
): Value {
  const functions = statusFunctions(status)
  const lexed = new Lexer(expression).lex()
  const parsed = new Parser(lexed.tokens, Object.keys(contexts), [...functions.values()]).parse()
  const dictionary = new data.Dictionary(
    ...Object.entries(contexts).map(([key, value]) => ({ key, value: toData(value) }))
  )
  return fromData(new Evaluator(parsed, dictionary, functions).evaluate())
}

/** GitHub's truthiness: null, false, 0, NaN and '' are false; everything else (objects, arrays) is true. */
export function truthy(value: Value): boolean {
  if (value === null || value === false || value === '') return false
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value)
  return true
}

/** A value as a string the way the runner writes it into INPUT_* and env (objects as JSON). */
export function asString(value: Value): string {
  if (value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value, null, 2)
}

/** Evaluates a parsed template token (literal, `${{ }}` expression, mapping or sequence) to a plain value. */
export function evaluateToken(
  token: TemplateToken | undefined,
  contexts: Contexts,
  status?: Status
): Value {
  if (token === undefined || token.toJSON() === null) return null
  if (isString(token)) return token.value
  if (isBoolean(token)) return token.value
  if (isNumber(token)) return token.value
  if (isBasicExpression(token)) return evaluate(token.expression, contexts, status)
  if (isSequence(token)) return [...token].map((item) => evaluateToken(item, contexts, status))
  if (isMapping(token)) {
    const result: Record<string, Value> = {}
    for (const pair of token)
      result[asString(evaluateToken(pair.key, contexts, status))] = evaluateToken(
        pair.value,
        contexts,
        status
      )
    return result
  }
  throw new Error(`unsupported template token at line ${token.line ?? '?'}`)
}

// ---------------------------------------------------------------------------------------------- the workflow model

export interface StepPlan {
  /** The step id (`__run`, `__actions_checkout`… for steps without one, as the runner names them). */
  id: string
  name?: TemplateToken
  if: string
  uses?: string
  run?: TemplateToken
  env?: TemplateToken
  with?: TemplateToken
  continueOnError: boolean
}

export interface JobPlan {
  id: string
  name?: TemplateToken
  needs: string[]
  if: string
  environment?: TemplateToken
  concurrency?: TemplateToken
  permissions?: Value
  outputs?: TemplateToken
  env?: TemplateToken
  steps: StepPlan[]
}

export interface InputDefinition {
  type: string
  required: boolean
  default?: string | number | boolean
  description?: string
}

export interface WorkflowPlan {
  file: string
  inputs: Record<string, InputDefinition>
  outputs: Record<string, TemplateToken>
  permissions?: Value
  jobs: JobPlan[]
}

function rawMapping(token: TemplateToken | undefined, key: string): TemplateToken | undefined {
  return token && isMapping(token) ? token.find(key) : undefined
}

/** Parses and validates a reusable workflow with @actions/workflow-parser. Throws on any parse error. */
export async function loadWorkflow(file: string): Promise<WorkflowPlan> {
  const content = readFileSync(file, 'utf8')
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter())
  const errors = parsed.context.errors.getErrors().map((e) => e.message)
  if (errors.length || !parsed.value) throw new Error(`${file}: ${errors.join('; ')}`)
  const template = await convertWorkflowTemplate(parsed.context, parsed.value)
  if (template.errors?.length)
    throw new Error(`${file}: ${template.errors.map((e) => e.Message).join('; ')}`)
  const call = template.events.workflow_call
  if (!call) throw new Error(`${file} is not a reusable workflow (no on.workflow_call)`)

  const root = parsed.value
  const rawJobs = rawMapping(root, 'jobs')
  const plainPermissions = (token: TemplateToken | undefined): Value | undefined =>
    token === undefined ? undefined : evaluateToken(token, {})

  const inputs: Record<string, InputDefinition> = {}
  for (const [name, definition] of Object.entries(call.inputs ?? {})) {
    const fallback = definition.default
    inputs[name] = {
      type: String(definition.type),
      required: definition.required ?? false,
      description: definition.description,
      default:
        fallback === undefined || typeof fallback !== 'object'
          ? fallback
          : asString(evaluateToken(fallback, {}))
    }
  }
  const outputs: Record<string, TemplateToken> = {}
  const rawOutputs = rawMapping(rawMapping(rawMapping(root, 'on'), 'workflow_call'), 'outputs')
  if (rawOutputs && isMapping(rawOutputs)) {
    for (const pair of rawOutputs) {
      const value = rawMapping(pair.value, 'value')
      if (value) outputs[asString(evaluateToken(pair.key, {}))] = value
    }
  }

  const jobs: JobPlan[] = template.jobs.map((job) => {
    if (job.type !== 'job')
      throw new Error(`job ${job.id.value}: nested reusable workflows are not supported`)
    const rawJob = rawMapping(rawJobs, job.id.value)
    const rawSteps = rawMapping(rawJob, 'steps')
    const rawStepList = rawSteps && isSequence(rawSteps) ? [...rawSteps] : []
    const steps: StepPlan[] = job.steps.map((step, index) => {
      if (!('uses' in step) && !('run' in step))
        throw new Error(`job ${job.id.value}: step ${step.id} is neither uses: nor run:`)
      const rawStep = rawStepList[index]
      const continueOnError = step['continue-on-error']
      return {
        id: step.id,
        name: step.name,
        if: step.if.expression,
        uses: 'uses' in step ? step.uses.value : undefined,
        run: 'run' in step ? step.run : undefined,
        env: step.env,
        with: rawMapping(rawStep, 'with'),
        continueOnError: continueOnError === true
      }
    })
    return {
      id: job.id.value,
      name: job.name,
      needs: (job.needs ?? []).map((n) => n.value),
      if: job.if.expression,
      environment: job.environment,
      concurrency: job.concurrency,
      permissions: plainPermissions(rawMapping(rawJob, 'permissions')),
      outputs: job.outputs,
      env: job.env,
      steps
    }
  })
  return {
    file,
    inputs,
    outputs,
    permissions: plainPermissions(rawMapping(root, 'permissions')),
    jobs
  }
}

/** Jobs in an order where every job comes after the jobs it needs (stable: file order among equals). */
export function jobOrder(jobs: Pick<JobPlan, 'id' | 'needs'>[]): string[] {
  const ids = new Set(jobs.map((j) => j.id))
  for (const job of jobs)
    for (const need of job.needs)
      if (!ids.has(need)) throw new Error(`job "${job.id}" needs "${need}", which does not exist`)
  const order: string[] = []
  const done = new Set<string>()
  while (order.length < jobs.length) {
    const next = jobs.find((j) => !done.has(j.id) && j.needs.every((n) => done.has(n)))
    if (!next) {
      const stuck = jobs.filter((j) => !done.has(j.id)).map((j) => j.id)
      throw new Error(`the needs of ${stuck.join(', ')} form a cycle`)
    }
    order.push(next.id)
    done.add(next.id)
  }
  return order
}

/** The caller's `with:` values checked against the workflow's typed inputs, defaults applied. */
export function resolveInputs(
  plan: Pick<WorkflowPlan, 'inputs' | 'file'>,
  given: Record<string, string | number | boolean>
): Record<string, Value> {
  const result: Record<string, Value> = {}
  for (const name of Object.keys(given))
    if (!(name in plan.inputs)) throw new Error(`${plan.file}: unexpected input "${name}"`)
  for (const [name, definition] of Object.entries(plan.inputs)) {
    const value = given[name] ?? definition.default
    if (value === undefined) {
      if (definition.required) throw new Error(`${plan.file}: the input "${name}" is required`)
      result[name] = definition.type === 'boolean' ? false : definition.type === 'number' ? 0 : ''
      continue
    }
    if (definition.type === 'boolean') {
      if (typeof value === 'boolean') result[name] = value
      else if (value === 'true' || value === 'false') result[name] = value === 'true'
      else
        throw new Error(
          `${plan.file}: input "${name}" must be a boolean, got ${JSON.stringify(value)}`
        )
    } else if (definition.type === 'number') {
      const n = typeof value === 'number' ? value : Number(value)
      if (Number.isNaN(n)) throw new Error(`${plan.file}: input "${name}" must be a number`)
      result[name] = n
    } else {
      if (typeof value !== 'string')
        throw new Error(
          `${plan.file}: input "${name}" must be a string, got ${JSON.stringify(value)}`
        )
      result[name] = value
    }
  }
  return result
}

// ---------------------------------------------------------------------------------------------- running

export type StepOutcome = 'success' | 'failure' | 'skipped'

export interface StepResult {
  id: string
  name: string
  kind: 'action' | 'run' | 'stand-in'
  uses?: string
  outcome: StepOutcome
  conclusion: StepOutcome
  outputs: Record<string, string>
  summary: string
  /** The log with every masked value replaced by ***. */
  log: string
  errors: string[]
  /** The runner's warnings about the step itself (an input the action does not declare). */
  warnings: string[]
  exitCode?: number | null
}

export type JobResultKind = 'success' | 'failure' | 'skipped'

export interface JobResult {
  id: string
  name: string
  result: JobResultKind
  /** Why a job was skipped or failed before its steps (an unmet need, a false if:, a rejected approval). */
  reason?: string
  environment?: string
  /** environment.url, evaluated after the steps. */
  environmentUrl?: string
  concurrencyGroup?: string
  outputs: Record<string, string>
  steps: StepResult[]
}

export interface WorkflowResult {
  conclusion: 'success' | 'failure'
  jobs: JobResult[]
  outputs: Record<string, string>
  /** Every `uses:` that only exists on GitHub and ran as a stand-in. */
  standIns: string[]
}

export interface StandInContext {
  with: Record<string, string>
  workspace: string
  job: string
  log: (line: string) => void
}

/** A stand-in for an action that only exists on GitHub: what it leaves behind, plus outputs. */
export type StandIn = (
  context: StandInContext
) => Promise<Record<string, string> | void> | Record<string, string> | void

export interface RunWorkflowOptions {
  plan: WorkflowPlan
  /** The caller's `with:` values. */
  inputs: Record<string, string | number | boolean>
  workspace: string
  /** The github context (event_name, repository, sha, ref, run_id…). */
  github: Record<string, Value>
  vars?: Record<string, string>
  secrets?: Record<string, string>
  /** job.workflow_repository / job.workflow_sha: the called workflow's own repository and commit. */
  workflowRepository: string
  workflowSha: string
  /** Base environment of every process (PATH, HOME, the local stack's endpoints…). */
  env?: Record<string, string>
  /** Stand-ins keyed by `owner/repo` (the part of `uses:` before @). */
  standIns?: Record<string, StandIn>
  /** The environment's protection rules: resolves true to approve the deployment, false to reject it. */
  approve?: (environment: string, job: string) => Promise<boolean> | boolean
  /** Called for each line worth showing (step starts, results). */
  log?: (line: string) => void
  /** Called with each step's result as it finishes. */
  onStep?: (job: string, step: StepResult) => void
  stepTimeoutMs?: number
  node?: string
  /** Keep each job's temp dir (RUNNER_TEMP, file commands) after the run; default: removed. */
  keepTemp?: boolean
}

const BASE_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'TZ', 'DOCKER_HOST', 'TMPDIR', 'DOCKER_CONFIG']

function mask(text: string, secrets: Set<string>): string {
  let out = text
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***')
  return out
}

interface ProcessResult {
  exitCode: number | null
  log: string
}

function runProcess(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args[0] ?? command} did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ exitCode: code, log })
    })
  })
}

interface ActionDefinition {
  dir: string
  main: string
  post?: string
  using: string
  inputs: Record<string, { default?: string; required?: boolean }>
}

function readActionDefinition(dir: string): ActionDefinition {
  const file = ['action.yml', 'action.yaml'].map((f) => join(dir, f)).find((f) => existsSync(f))
  if (!file) throw new Error(`no action.yml in ${dir}`)
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    runs?: { using?: string; main?: string; post?: string }
    inputs?: Record<string, { default?: unknown; required?: boolean }>
  }
  const runs = doc.runs ?? {}
  if (!runs.using?.startsWith('node') || !runs.main)
    throw new Error(`${file}: only JavaScript actions (runs.using: nodeXX) run here`)
  const inputs: ActionDefinition['inputs'] = {}
  for (const [name, input] of Object.entries(doc.inputs ?? {}))
    inputs[name] = {
      default: input.default === undefined ? undefined : asString(input.default as Value),
      required: input.required
    }
  return {
    dir,
    using: runs.using,
    main: resolve(dir, runs.main),
    post: runs.post ? resolve(dir, runs.post) : undefined,
    inputs
  }
}

interface JobState {
  id: string
  dir: string
  runnerTemp: string
  exportedEnv: Record<string, string>
  secrets: Set<string>
  posts: {
    name: string
    action: ActionDefinition
    env: Record<string, string>
    state: Record<string, string>
  }[]
}

/** Runs the workflow's jobs in needs order and returns what happened. Never throws for a failing step. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowResult> {
  const { plan } = options
  const log = options.log ?? (() => undefined)
  const inputs = resolveInputs(plan, options.inputs)
  const standInsUsed = new Set<string>()
  const jobDirs: string[] = []
  const jobResults = new Map<string, JobResult>()
  const results: JobResult[] = []
  const byId = new Map(plan.jobs.map((j) => [j.id, j]))
  const timeoutMs = options.stepTimeoutMs ?? 600_000
  const baseEnv: Record<string, string> = {}
  for (const key of BASE_ENV_KEYS) {
    const value = process.env[key]
    if (value !== undefined) baseEnv[key] = value
  }
  Object.assign(baseEnv, options.env ?? {})
  const github: Record<string, Value> = { workspace: options.workspace, ...options.github }

  for (const jobId of jobOrder(plan.jobs)) {
    const job = byId.get(jobId) as JobPlan
    const needs: Record<string, Value> = {}
    for (const need of job.needs) {
      const r = jobResults.get(need) as JobResult
      needs[need] = { result: r.result, outputs: r.outputs }
    }
    const dir = mkdtempSync(join(tmpdir(), `shipline-wf-${jobId}-`))
    jobDirs.push(dir)
    const state: JobState = {
      id: jobId,
      dir,
      runnerTemp: join(dir, 'runner-temp'),
      exportedEnv: {},
      secrets: new Set(Object.values(options.secrets ?? {})),
      posts: []
    }
    mkdirSync(state.runnerTemp, { recursive: true })
    const baseContexts = (): Contexts => ({
      github,
      inputs,
      vars: options.vars ?? {},
      secrets: options.secrets ?? {},
      needs,
      job: {
        status: 'success',
        workflow_repository: options.workflowRepository,
        workflow_sha: options.workflowSha
      },
      runner: { os: 'Linux', arch: 'X64', temp: state.runnerTemp, name: 'shipline-local' },
      strategy: {},
      matrix: {},
      env: {}
    })
    const needsFailed = job.needs.some((n) => jobResults.get(n)?.result !== 'success')
    const jobName = job.name ? asString(evaluateToken(job.name, baseContexts())) : jobId
    const result: JobResult = {
      id: jobId,
      name: jobName,
      result: 'success',
      outputs: {},
      steps: []
    }
    results.push(result)
    jobResults.set(jobId, result)

    if (!truthy(evaluate(job.if, baseContexts(), { failed: needsFailed }))) {
      result.result = 'skipped'
      result.reason = needsFailed
        ? `a job it needs did not succeed (${job.needs.filter((n) => jobResults.get(n)?.result !== 'success').join(', ')})`
        : `if: ${job.if} is false`
      log(`⏭  job ${jobName}: skipped (${result.reason})`)
      continue
    }
    log(`▶  job ${jobName}`)
    if (job.concurrency) {
      const concurrency = evaluateToken(job.concurrency, baseContexts())
      const group =
        typeof concurrency === 'string'
          ? concurrency
          : asString((concurrency as Record<string, Value>)['group'] ?? '')
      result.concurrencyGroup = group
      const cancel =
        typeof concurrency === 'object' && concurrency !== null
          ? (concurrency as Record<string, Value>)['cancel-in-progress']
          : false
      log(`   concurrency group ${group} (cancel-in-progress: ${asString(cancel ?? false)})`)
    }
    if (job.environment) {
      // The name is known before the job starts; the url is evaluated after its steps (it may use steps.*).
      const nameToken = isMapping(job.environment) ? job.environment.find('name') : job.environment
      const name = asString(evaluateToken(nameToken, baseContexts()))
      result.environment = name
      log(`⏸  environment "${name}": waiting for its protection rules (required reviewers)`)
      const approved = options.approve ? await options.approve(name, jobId) : true
      if (!approved) {
        result.result = 'failure'
        result.reason = `the deployment to environment "${name}" was rejected`
        log(`✗  environment "${name}": rejected; job ${jobName} does not run`)
        continue
      }
      log(`✓  environment "${name}": approved`)
    }

    let failed = false
    const stepsContext: Record<string, Value> = {}
    for (const step of job.steps) {
      const contexts = (): Contexts => {
        const c = baseContexts()
        c['steps'] = stepsContext
        c['job'] = {
          ...(c['job'] as Record<string, Value>),
          status: failed ? 'failure' : 'success'
        }
        c['env'] = { ...evaluateObject(job.env, c), ...state.exportedEnv }
        return c
      }
      const name = step.name
        ? asString(evaluateToken(step.name, contexts()))
        : (step.uses ??
          (step.run ? 'Run ' + firstLine(asString(evaluateToken(step.run, contexts()))) : step.id))
      const stepResult: StepResult = {
        id: step.id,
        name,
        kind: step.run ? 'run' : step.uses?.startsWith('./') ? 'action' : 'stand-in',
        uses: step.uses,
        outcome: 'skipped',
        conclusion: 'skipped',
        outputs: {},
        summary: '',
        log: '',
        errors: [],
        warnings: []
      }
      if (truthy(evaluate(step.if, contexts(), { failed }))) {
        try {
          await runStep(
            step,
            stepResult,
            contexts(),
            state,
            options,
            baseEnv,
            timeoutMs,
            standInsUsed
          )
        } catch (error) {
          stepResult.outcome = 'failure'
          stepResult.errors.push(error instanceof Error ? error.message : String(error))
        }
        stepResult.conclusion =
          stepResult.outcome === 'failure' && step.continueOnError ? 'success' : stepResult.outcome
        if (stepResult.conclusion === 'failure') failed = true
      }
      stepsContext[step.id] = {
        outputs: stepResult.outputs,
        outcome: stepResult.outcome,
        conclusion: stepResult.conclusion
      }
      result.steps.push(stepResult)
      options.onStep?.(jobId, stepResult)
    }
    // Post steps run last, in reverse order, whatever happened (post-if: always()).
    for (const post of state.posts.reverse()) {
      const env = { ...post.env }
      for (const [key, value] of Object.entries(post.state)) env[`STATE_${key}`] = value
      const files = fileCommands(state, `post-${post.name}`)
      Object.assign(env, files)
      const ran = await runProcess(
        options.node ?? process.execPath,
        [post.action.post as string],
        options.workspace,
        env,
        timeoutMs
      )
      for (const secret of commandLines(ran.log, 'add-mask')) state.secrets.add(secret)
      const stepResult: StepResult = {
        id: `post-${post.name}`,
        name: `Post ${post.name}`,
        kind: 'action',
        outcome: ran.exitCode === 0 ? 'success' : 'failure',
        conclusion: ran.exitCode === 0 ? 'success' : 'failure',
        outputs: {},
        summary: readText(files.GITHUB_STEP_SUMMARY),
        log: mask(ran.log, state.secrets),
        errors: commandLines(ran.log, 'error').map((e) => mask(e, state.secrets)),
        warnings: [],
        exitCode: ran.exitCode
      }
      if (stepResult.conclusion === 'failure') failed = true
      result.steps.push(stepResult)
      options.onStep?.(jobId, stepResult)
    }
    result.result = failed ? 'failure' : 'success'
    const urlToken =
      job.environment && isMapping(job.environment) ? job.environment.find('url') : undefined
    if (urlToken) {
      const c = baseContexts()
      c['steps'] = stepsContext
      result.environmentUrl = asString(evaluateToken(urlToken, c))
    }
    if (job.outputs) {
      const c = baseContexts()
      c['steps'] = stepsContext
      const outputs = evaluateToken(job.outputs, c) as Record<string, Value>
      for (const [key, value] of Object.entries(outputs)) {
        const text = asString(value)
        // The runner drops a job output that contains a masked value.
        if ([...state.secrets].some((s) => s.length >= 4 && text.includes(s))) continue
        result.outputs[key] = text
      }
    }
    log(`${failed ? '✗' : '✓'}  job ${jobName}: ${result.result}`)
  }

  if (!options.keepTemp) for (const dir of jobDirs) rmSync(dir, { recursive: true, force: true })
  const jobsContext: Record<string, Value> = {}
  for (const r of results) jobsContext[r.id] = { result: r.result, outputs: r.outputs }
  const outputs: Record<string, string> = {}
  for (const [name, token] of Object.entries(plan.outputs))
    outputs[name] = asString(
      evaluateToken(token, { jobs: jobsContext, inputs, github, vars: options.vars ?? {} })
    )
  return {
    conclusion: results.some((r) => r.result === 'failure') ? 'failure' : 'success',
    jobs: results,
    outputs,
    standIns: [...standInsUsed]
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : ''
}

function evaluateObject(
  token: TemplateToken | undefined,
  contexts: Contexts
): Record<string, string> {
  if (!token) return {}
  const value = evaluateToken(token, contexts)
  const result: Record<string, string> = {}
  if (value && typeof value === 'object' && !Array.isArray(value))
    for (const [key, v] of Object.entries(value)) result[key] = asString(v)
  return result
}

let fileCounter = 0
interface FileCommands {
  GITHUB_OUTPUT: string
  GITHUB_STEP_SUMMARY: string
  GITHUB_ENV: string
  GITHUB_STATE: string
  GITHUB_PATH: string
}

function fileCommands(state: JobState, name: string): FileCommands {
  const base = join(state.dir, `${++fileCounter}-${name.replace(/[^\w.-]+/g, '_')}`)
  const files = {
    GITHUB_OUTPUT: `${base}.output`,
    GITHUB_STEP_SUMMARY: `${base}.summary`,
    GITHUB_ENV: `${base}.env`,
    GITHUB_STATE: `${base}.state`,
    GITHUB_PATH: `${base}.path`
  }
  for (const file of Object.values(files)) writeFileSync(file, '')
  return files
}

function githubEnv(
  options: RunWorkflowOptions,
  state: JobState,
  action: string
): Record<string, string> {
  const g = options.github
  const str = (key: string, fallback = ''): string =>
    g[key] === undefined ? fallback : asString(g[key])
  const eventPath = join(state.dir, 'event.json')
  if (!existsSync(eventPath)) writeFileSync(eventPath, JSON.stringify(g['event'] ?? {}))
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: state.runnerTemp,
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_SHA: str('sha'),
    GITHUB_REF: str('ref'),
    GITHUB_REF_NAME: str('ref_name'),
    GITHUB_REPOSITORY: str('repository'),
    GITHUB_REPOSITORY_OWNER: str('repository_owner'),
    GITHUB_SERVER_URL: str('server_url', 'https://github.com'),
    GITHUB_RUN_ID: str('run_id', '1'),
    GITHUB_RUN_ATTEMPT: str('run_attempt', '1'),
    GITHUB_ACTOR: str('actor'),
    GITHUB_WORKFLOW: str('workflow'),
    GITHUB_WORKFLOW_REF: `${options.workflowRepository}/${relative(process.cwd(), options.plan.file)}@${str('ref')}`,
    GITHUB_EVENT_NAME: str('event_name', 'push'),
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_JOB: state.id,
    GITHUB_ACTION: action
  }
}

async function runStep(
  step: StepPlan,
  result: StepResult,
  contexts: Contexts,
  state: JobState,
  options: RunWorkflowOptions,
  baseEnv: Record<string, string>,
  timeoutMs: number,
  standInsUsed: Set<string>
): Promise<void> {
  const stepEnv = {
    ...(contexts['env'] as Record<string, string>),
    ...evaluateObject(step.env, contexts)
  }
  const withValues = evaluateObject(step.with, contexts)
  const env: Record<string, string> = {
    ...baseEnv,
    ...githubEnv(options, state, step.id),
    ...stepEnv
  }
  const files = fileCommands(state, step.id)
  Object.assign(env, files)
  const finish = (ran: ProcessResult): void => {
    for (const secret of commandLines(ran.log, 'add-mask')) state.secrets.add(secret)
    result.exitCode = ran.exitCode
    result.outcome = ran.exitCode === 0 ? 'success' : 'failure'
    result.outputs = parseFileCommands(readText(files.GITHUB_OUTPUT))
    result.summary = mask(readText(files.GITHUB_STEP_SUMMARY), state.secrets)
    result.log = mask(ran.log, state.secrets)
    result.errors = commandLines(ran.log, 'error').map((e) => mask(e, state.secrets))
    Object.assign(state.exportedEnv, parseFileCommands(readText(files.GITHUB_ENV)))
  }

  if (step.run) {
    const script = asString(evaluateToken(step.run, contexts))
    const file = join(state.dir, `${step.id}.sh`)
    writeFileSync(file, script)
    finish(
      await runProcess(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', file],
        options.workspace,
        env,
        timeoutMs
      )
    )
    return
  }
  const uses = step.uses as string
  if (uses.startsWith('./')) {
    const action = readActionDefinition(resolve(options.workspace, uses))
    for (const [name, input] of Object.entries(action.inputs)) {
      const value = withValues[name] ?? input.default
      if (value !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    }
    for (const name of Object.keys(withValues))
      if (!(name in action.inputs))
        result.warnings.push(`Unexpected input '${name}': ${uses} declares no such input`)
    for (const [name, value] of Object.entries(withValues))
      env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    const ran = await runProcess(
      options.node ?? process.execPath,
      [action.main],
      options.workspace,
      env,
      timeoutMs
    )
    finish(ran)
    if (action.post) {
      const saved = parseFileCommands(readText(files.GITHUB_STATE))
      state.posts.push({ name: step.id, action, env: { ...env }, state: saved })
    }
    return
  }
  const key = uses.split('@')[0] ?? uses
  const standIn =
    options.standIns?.[key] ?? options.standIns?.[key.split('/').slice(0, 2).join('/')]
  if (!standIn) throw new Error(`"${uses}" only exists on GitHub and has no local stand-in`)
  standInsUsed.add(uses)
  const lines: string[] = []
  const outputs = await standIn({
    with: withValues,
    workspace: options.workspace,
    job: state.id,
    log: (line) => lines.push(line)
  })
  result.outcome = 'success'
  result.outputs = outputs ?? {}
  result.log = lines.join('\n')
}

/** Resolves a path relative to the workspace, refusing to leave it. */
export function insideWorkspace(workspace: string, path: string): string {
  const full = resolve(workspace, path)
  const rel = relative(workspace, full)
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${path} is outside the workspace`)
  return full
}
