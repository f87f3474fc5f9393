/**
 * The runner's workflow-command protocol, implemented without `@actions/core`.
 *
 * `@actions/core` 3 loads its OIDC HTTP client (and with it undici) on import, which costs more start-up time than
 * the rest of a validation-path run. The functions here write the same bytes as their `@actions/core` namesakes
 * (test/unit/action-kit/workflow-commands.test.ts compares them), and `getIDToken` uses Node's `fetch`,
 * so no action bundle carries `@actions/core`'s HTTP client. Import them as `import { core } from '@shipline/action-kit'`.
 */
import { randomUUID } from 'node:crypto'
import { appendFileSync, existsSync } from 'node:fs'
import { EOL } from 'node:os'
import { delimiter as pathDelimiter } from 'node:path'
import { httpFetch } from './http.js'

export interface InputOptions {
  required?: boolean
  trimWhitespace?: boolean
}

export interface AnnotationProperties {
  title?: string
  file?: string
  startLine?: number
  endLine?: number
  startColumn?: number
  endColumn?: number
}

/** Anything but a string is JSON-encoded; null and undefined become ''. */
function commandValue(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string' || value instanceof String) return String(value)
  return JSON.stringify(value)
}

function escapeData(value: unknown): string {
  return commandValue(value).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

function escapeProperty(value: unknown): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/** `::name key=value,key=value::message`, properties with empty values left out. */
export function issueCommand(
  name: string,
  properties: Record<string, unknown>,
  message: unknown
): void {
  const props = Object.entries(properties)
    .filter(([, value]) => value)
    .map(([key, value]) => `${key}=${escapeProperty(value)}`)
    .join(',')
  process.stdout.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}${EOL}`)
}

function fileCommand(command: 'OUTPUT' | 'ENV' | 'STATE' | 'PATH', message: string): void {
  const filePath = process.env[`GITHUB_${command}`]
  if (!filePath) throw new Error(`Unable to find environment variable for file command ${command}`)
  if (!existsSync(filePath)) throw new Error(`Missing file at path: ${filePath}`)
  appendFileSync(filePath, `${message}${EOL}`, { encoding: 'utf8' })
}

/** `name<<ghadelimiter_<uuid>` … the value … the delimiter: safe for values with newlines. */
function keyValueMessage(key: string, value: unknown): string {
  const delimiter = `ghadelimiter_${randomUUID()}`
  const text = commandValue(value)
  if (key.includes(delimiter)) {
    throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`)
  }
  if (text.includes(delimiter)) {
    throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`)
  }
  return `${key}<<${delimiter}${EOL}${text}${EOL}${delimiter}`
}

function annotationProperties(properties: AnnotationProperties): Record<string, unknown> {
  if (!Object.keys(properties).length) return {}
  return {
    title: properties.title,
    file: properties.file,
    line: properties.startLine,
    endLine: properties.endLine,
    col: properties.startColumn,
    endColumn: properties.endColumn
  }
}

export function getInput(name: string, options?: InputOptions): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || ''
  if (options?.required && !value) throw new Error(`Input required and not supplied: ${name}`)
  return options?.trimWhitespace === false ? value : value.trim()
}

export function getMultilineInput(name: string, options?: InputOptions): string[] {
  const lines = getInput(name, options)
    .split('\n')
    .filter((line) => line !== '')
  return options?.trimWhitespace === false ? lines : lines.map((line) => line.trim())
}

export function getBooleanInput(name: string, options?: InputOptions): boolean {
  const value = getInput(name, options)
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new TypeError(
    `Input does not meet YAML 1.2 "Core Schema" specification: ${name}\n` +
      'Support boolean input list: `true | True | TRUE | false | False | FALSE`'
  )
}

export function setOutput(name: string, value: unknown): void {
  if (process.env['GITHUB_OUTPUT']) return fileCommand('OUTPUT', keyValueMessage(name, value))
  process.stdout.write(EOL)
  issueCommand('set-output', { name }, commandValue(value))
}

export function exportVariable(name: string, value: unknown): void {
  process.env[name] = commandValue(value)
  if (process.env['GITHUB_ENV']) return fileCommand('ENV', keyValueMessage(name, value))
  issueCommand('set-env', { name }, commandValue(value))
}

export function addPath(inputPath: string): void {
  if (process.env['GITHUB_PATH']) fileCommand('PATH', inputPath)
  else issueCommand('add-path', {}, inputPath)
  process.env['PATH'] = `${inputPath}${pathDelimiter}${process.env['PATH']}`
}

export function saveState(name: string, value: unknown): void {
  if (process.env['GITHUB_STATE']) return fileCommand('STATE', keyValueMessage(name, value))
  issueCommand('save-state', { name }, commandValue(value))
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] || ''
}

export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret)
}

export function isDebug(): boolean {
  return process.env['RUNNER_DEBUG'] === '1'
}

export function debug(message: string): void {
  issueCommand('debug', {}, message)
}

export function info(message: string): void {
  process.stdout.write(message + EOL)
}

function annotation(kind: string, message: string | Error, properties: AnnotationProperties): void {
  issueCommand(
    kind,
    annotationProperties(properties),
    message instanceof Error ? message.toString() : message
  )
}

export function error(message: string | Error, properties: AnnotationProperties = {}): void {
  annotation('error', message, properties)
}

export function warning(message: string | Error, properties: AnnotationProperties = {}): void {
  annotation('warning', message, properties)
}

export function notice(message: string | Error, properties: AnnotationProperties = {}): void {
  annotation('notice', message, properties)
}

export function setFailed(message: string | Error): void {
  process.exitCode = 1
  error(message)
}

export function startGroup(name: string): void {
  issueCommand('group', {}, name)
}

export function endGroup(): void {
  issueCommand('endgroup', {}, '')
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name)
  try {
    return await fn()
  } finally {
    endGroup()
  }
}

/**
 * The runner's OIDC token: the protocol `@actions/core`'s `getIDToken` speaks (GET `ACTIONS_ID_TOKEN_REQUEST_URL` +
 * `&audience=…`, `Authorization: Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer `{"value": "<jwt>"}`), without
 * loading its HTTP client (with undici and tunnel, ~1 MB of bundle per action) or Node's `fetch` (see http.ts).
 * The token is masked before it is returned. Callers retry (packages/aws `fetchIdToken`).
 */
export async function getIDToken(audience?: string): Promise<string> {
  const base = process.env['ACTIONS_ID_TOKEN_REQUEST_URL']
  if (!base) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
  const requestToken = process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']
  if (!requestToken) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable')
  const url = audience ? `${base}&audience=${encodeURIComponent(audience)}` : base
  debug(`ID token url is ${url}`)
  const response = await httpFetch(url, {
    headers: {
      Accept: 'application/json',
      Authorization: `Bearer ${requestToken}`,
      'User-Agent': 'actions/oidc-client'
    },
    timeoutMs: 60_000
  })
  if (!response.ok) {
    const body = (await response.text().catch(() => '')).slice(0, 200)
    throw new Error(`Failed to get ID Token: HTTP ${response.status}${body ? `: ${body}` : ''}`)
  }
  const parsed = (await response.json().catch(() => undefined)) as { value?: unknown } | undefined
  const token = parsed?.value
  if (typeof token !== 'string' || !token)
    throw new Error('Response json body do not have ID Token field')
  setSecret(token)
  return token
}
