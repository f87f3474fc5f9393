/**
 * Runs a bundled action exactly as the GitHub runner does: `node dist/<name>/index.js` with INPUT_* variables and
 * the runner's file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_STATE) in a temp dir.
 * Every run is checked for leaked secrets: no value the action registered with ::add-mask::, no secret passed to it in
 * its environment (AWS keys, session tokens, the OIDC request token), and no secret the local stack handed out
 * (STS secret keys and session tokens, ECR passwords and tokens, OIDC tokens: `GET /_sim/secrets`) may appear in its
 * log, outputs, summary or exported environment.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export interface RunOptions {
  inputs?: Record<string, string | undefined>
  env?: Record<string, string | undefined>
  /** GitHub event name and payload (written to GITHUB_EVENT_PATH). */
  event?: { name: string; payload: Record<string, unknown> }
  /** The workspace (GITHUB_WORKSPACE and the process cwd); a fresh temp dir when omitted. */
  workspace?: string
  /** Run the action's post step: pass the result of the main step (its saved state is handed over). */
  postOf?: RunResult
  timeoutMs?: number
  /** Send `signal` to the action once its log matches `when` (the runner cancelling a job). */
  signal?: { when: RegExp; signal: NodeJS.Signals }
  /** Called with the whole stdout so far on every chunk (a test reacting to a phase: advancing the clock…). */
  onOutput?: (stdout: string, pid: number | undefined) => void
  /** Skip the leaked-secret assertion (only for tests of the checker itself). */
  allowLeaks?: boolean
}

export interface RunResult {
  exitCode: number | null
  stdout: string
  stderr: string
  /** stdout + stderr, as the runner's log shows it. */
  log: string
  outputs: Record<string, string>
  summary: string
  exportedEnv: Record<string, string>
  state: Record<string, string>
  /** Values the action registered with ::add-mask::. */
  secrets: string[]
  /** Secrets the action never registered but must not print: from its environment and from the local stack. */
  knownSecrets: string[]
  /** The text of each ::error:: / ::warning:: / ::notice:: line. */
  errors: string[]
  warnings: string[]
  notices: string[]
  dir: string
  workspace: string
}

/** Parses the runner's `name<<delimiter` / `name=value` file-command format. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line === '') continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string]
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
      result[name] = value.join('\n')
    } else {
      const eq = line.indexOf('=')
      if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1)
    }
  }
  return result
}

function unescapeCommandData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** The lines the runner reads as commands: `::stop-commands::<token>` … `::<token>::` regions are left out. */
export function activeLines(log: string): string[] {
  const out: string[] = []
  let stopped: string | undefined
  for (const line of log.split('\n')) {
    const trimmed = line.trim()
    if (stopped !== undefined) {
      if (trimmed === `::${stopped}::`) stopped = undefined
      continue
    }
    if (trimmed.startsWith('::stop-commands::')) stopped = trimmed.slice('::stop-commands::'.length)
    out.push(line)
  }
  return out
}

/** The unescaped data of each `::<command>…::<data>` line the runner would act on. */
export function commandLines(log: string, command: string): string[] {
  const prefix = `::${command}`
  return activeLines(log)
    .filter((line) => line.startsWith(prefix))
    .map((line) => unescapeCommandData(line.slice(line.indexOf('::', 2) + 2)))
}

/** Environment variables whose values are credentials. */
const SECRET_ENV =
  /^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ACTIONS_ID_TOKEN_REQUEST_TOKEN|ACTIONS_RUNTIME_TOKEN|GITHUB_TOKEN|INPUT_[A-Z0-9_-]*(TOKEN|PASSWORD))$/

/** The secrets a local stack (packages/sim) handed out so far; [] when there is none or it has stopped. */
export async function stackSecrets(adminUrl: string | undefined): Promise<string[]> {
  if (!adminUrl) return []
  try {
    const res = await fetch(`${adminUrl}/secrets`, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) return []
    const body = (await res.json()) as { secrets?: unknown }
    return Array.isArray(body.secrets) ? body.secrets.filter((s) => typeof s === 'string') : []
  } catch {
    return []
  }
}

/**
 * Throws when any registered secret appears outside its own ::add-mask:: line, or any known secret (from the
 * environment or the local stack) appears at all.
 */
export function assertNoLeakedSecrets(
  result: Pick<
    RunResult,
    'secrets' | 'stdout' | 'stderr' | 'outputs' | 'summary' | 'exportedEnv'
  > & {
    knownSecrets?: string[]
  }
): void {
  const scrubbedStdout = result.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
  const places: [string, string][] = [
    ['log', scrubbedStdout],
    ['stderr', result.stderr],
    ['outputs', JSON.stringify(result.outputs)],
    ['summary', result.summary],
    ['exported env', JSON.stringify(result.exportedEnv)]
  ]
  for (const secret of new Set([...result.secrets, ...(result.knownSecrets ?? [])])) {
    if (secret.length < 8 && !result.secrets.includes(secret)) continue
    if (secret.length < 4) continue
    for (const [where, text] of places) {
      if (text.includes(secret)) {
        throw new Error(
          `a masked secret (${secret.length} chars, starting "${secret.slice(0, 2)}…") leaked into the ${where}`
        )
      }
    }
  }
}

const BASE_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'TZ', 'DOCKER_HOST', 'SYSTEMROOT', 'TMPDIR']

export async function runAction(name: string, options: RunOptions = {}): Promise<RunResult> {
  const entry = join(REPO_ROOT, 'dist', name, 'index.js')
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run "npm run bundle" first`)
  const dir = options.postOf?.dir ?? mkdtempSync(join(tmpdir(), `shipline-${name}-`))
  const workspace = options.workspace ?? options.postOf?.workspace ?? join(dir, 'workspace')
  const runnerTemp = join(dir, 'runner-temp')
  mkdirSync(workspace, { recursive: true })
  mkdirSync(runnerTemp, { recursive: true })
  const phase = options.postOf ? 'post' : 'main'
  const files = {
    GITHUB_OUTPUT: join(dir, `output-${phase}`),
    GITHUB_STEP_SUMMARY: join(dir, `summary-${phase}`),
    GITHUB_ENV: join(dir, `env-${phase}`),
    GITHUB_STATE: join(dir, `state-${phase}`),
    GITHUB_PATH: join(dir, `path-${phase}`)
  }
  for (const file of Object.values(files)) writeFileSync(file, '')
  const eventPath = join(dir, 'event.json')
  if (!existsSync(eventPath)) writeFileSync(eventPath, JSON.stringify(options.event?.payload ?? {}))

  const env: Record<string, string> = {}
  for (const key of BASE_ENV_KEYS) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  Object.assign(env, {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: runnerTemp,
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'build',
    GITHUB_ACTION: name,
    GITHUB_EVENT_NAME: options.event?.name ?? 'push',
    GITHUB_EVENT_PATH: eventPath,
    ...files
  })
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  // Like the runner: every input the step does not set gets its action.yml default.
  for (const [input, value] of Object.entries(actionDefaults(name))) {
    if (options.inputs?.[input] === undefined)
      env[`INPUT_${input.replace(/ /g, '_').toUpperCase()}`] = value
  }
  for (const [input, value] of Object.entries(options.inputs ?? {})) {
    if (value !== undefined) env[`INPUT_${input.replace(/ /g, '_').toUpperCase()}`] = value
  }
  if (options.postOf) {
    for (const [key, value] of Object.entries(options.postOf.state)) env[`STATE_${key}`] = value
  }

  // SHIPLINE_TEST_NODE runs the bundles on another Node (CI runs them on Node 24, the actions' runtime, too).
  const node = process.env['SHIPLINE_TEST_NODE'] || process.execPath
  const child = spawn(node, [entry], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let signalled = false
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    options.onOutput?.(stdout, child.pid)
    if (options.signal && !signalled && options.signal.when.test(stdout)) {
      signalled = true
      child.kill(options.signal.signal)
    }
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timeoutMs = options.timeoutMs ?? 120_000
  const exitCode = await new Promise<number | null>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise(code)
    })
  })

  const knownSecrets = [
    ...Object.entries(env)
      .filter(([key, value]) => SECRET_ENV.test(key) && value.length >= 8)
      .map(([, value]) => value),
    ...(await stackSecrets(env['SHIPLINE_SIM_ADMIN_URL']))
  ]
  const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '')
  const log = stdout + stderr
  const result: RunResult = {
    exitCode,
    stdout,
    stderr,
    log,
    outputs: parseFileCommands(read(files.GITHUB_OUTPUT)),
    summary: read(files.GITHUB_STEP_SUMMARY),
    exportedEnv: parseFileCommands(read(files.GITHUB_ENV)),
    state: { ...(options.postOf?.state ?? {}), ...parseFileCommands(read(files.GITHUB_STATE)) },
    secrets: [...(options.postOf?.secrets ?? []), ...commandLines(stdout, 'add-mask')],
    knownSecrets,
    errors: commandLines(log, 'error'),
    warnings: commandLines(log, 'warning'),
    notices: commandLines(log, 'notice'),
    dir,
    workspace
  }
  if (!options.allowLeaks) assertNoLeakedSecrets(result)
  return result
}

/** A unique name for resources created by one test (repositories, families…). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

const defaultsCache = new Map<string, Record<string, string>>()

/** The `default` of each input in actions/<name>/action.yml, as the runner passes them. */
export function actionDefaults(name: string): Record<string, string> {
  let defaults = defaultsCache.get(name)
  if (!defaults) {
    const file = join(REPO_ROOT, 'actions', name, 'action.yml')
    const inputs = existsSync(file)
      ? ((
          parseYaml(readFileSync(file, 'utf8')) as {
            inputs?: Record<string, { default?: unknown }>
          }
        ).inputs ?? {})
      : {}
    defaults = {}
    for (const [input, spec] of Object.entries(inputs)) {
      const value = spec?.default
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        defaults[input] = String(value)
    }
    defaultsCache.set(name, defaults)
  }
  return defaults
}
