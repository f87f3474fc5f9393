/**
 * Parsers for the per-container and task-level changes render-task-def applies. Every parser names the
 * input (or `containers.<name>.<key>`) it reads in its InputError, with the fix.
 */
import { InputError } from '@shipline/action-kit'
import { validateRoleArn } from '@shipline/aws'
import { modelEnum } from './model.js'

/** Set (or, with `remove`, delete) one named entry. */
export type NamedChange =
  { name: string; value: string; remove?: false } | { name: string; remove: true }

const ENV_NAME = /^[^\s=]+$/

/**
 * `KEY=VALUE` lines (the value keeps further "="), `KEY=` for an empty value, `-KEY` to remove.
 * Blank lines and `#` comments are skipped; `KEY` alone is an error (ambiguous).
 */
export function parseChangeLines(input: string, text: string, what = 'KEY=VALUE'): NamedChange[] {
  const changes: NamedChange[] = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const where = `line ${index + 1} "${line}"`
    if (line.startsWith('-') && !line.includes('=')) {
      const name = line.slice(1).trim()
      if (!ENV_NAME.test(name))
        throw new InputError(
          input,
          `${where} removes an invalid name`,
          'Write "-NAME" to remove NAME.'
        )
      changes.push({ name, remove: true })
      return
    }
    const eq = line.indexOf('=')
    if (eq <= 0) {
      throw new InputError(
        input,
        `${where} is not ${what}`,
        `Write one ${what} per line; "NAME=" sets an empty value and "-NAME" removes NAME.`
      )
    }
    const name = line.slice(0, eq).trim()
    if (!ENV_NAME.test(name)) {
      throw new InputError(
        input,
        `${where}: "${name}" is not a valid name`,
        'Names cannot contain spaces or "=".'
      )
    }
    changes.push({ name, value: line.slice(eq + 1) })
  })
  return changes
}

/** A YAML/JSON mapping NAME → value (or null to remove) as changes. */
export function changesFromMapping(input: string, value: unknown): NamedChange[] {
  if (typeof value === 'string') return parseChangeLines(input, value)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(
      input,
      'must be a mapping NAME: value (null removes NAME)',
      'For example: {LOG_LEVEL: debug, OLD_FLAG: null}.'
    )
  }
  return Object.entries(value as Record<string, unknown>).map(([name, item]) => {
    if (!ENV_NAME.test(name))
      throw new InputError(
        input,
        `"${name}" is not a valid name`,
        'Names cannot contain spaces or "=".'
      )
    if (item === null) return { name, remove: true }
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean')
      return { name, value: String(item) }
    throw new InputError(
      input,
      `the value of "${name}" must be a string (or null to remove it)`,
      'Quote structured values as a JSON string.'
    )
  })
}

const SECRETS_MANAGER_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+(?::[^:\s]*){0,3}$/
const SSM_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[\w/.-]+$/
const SSM_NAME = /^\/?[\w.-]+(?:\/[\w.-]+)*$/

/** A secret's `valueFrom`: a Secrets Manager secret ARN (optionally with :json-key:stage:version), an SSM parameter ARN, or an SSM parameter name in the task's region. */
export function validateSecretSource(input: string, name: string, valueFrom: string): void {
  const v = valueFrom.trim()
  if (SECRETS_MANAGER_ARN.test(v) || SSM_ARN.test(v)) return
  if (!v.startsWith('arn:') && SSM_NAME.test(v)) return
  throw new InputError(
    input,
    `secret "${name}": "${valueFrom}" is not a Secrets Manager or SSM parameter reference`,
    'Use arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>::], arn:aws:ssm:<region>:<account>:parameter/<name>, or a parameter name like /app/db-password.'
  )
}

const S3_OBJECT_ARN = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+$/

export function validateEnvFileArn(input: string, arn: string): void {
  if (S3_OBJECT_ARN.test(arn)) return
  throw new InputError(
    input,
    `"${arn}" is not an S3 object ARN`,
    'Use arn:aws:s3:::<bucket>/<key>.env, one per line.'
  )
}

export const LOG_DRIVERS: readonly string[] = [
  ...modelEnum('LogConfiguration.logDriver'),
  'logentries'
]

export function validateLogDriver(input: string, driver: string): string {
  const found = LOG_DRIVERS.find((d) => d === driver.trim().toLowerCase())
  if (!found)
    throw new InputError(
      input,
      `"${driver}" is not a log driver`,
      `Use one of ${LOG_DRIVERS.join(', ')}.`
    )
  return found
}

/**
 * A shell-like command line split into arguments: 'sh -c "echo hi there"' → ["sh","-c","echo hi there"].
 * Single quotes are literal; double quotes allow \" and \\; a backslash outside quotes escapes the next character.
 */
export function splitCommandLine(input: string, text: string): string[] {
  const args: string[] = []
  let current = ''
  let inArg = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (quote === "'") {
      if (ch === "'") quote = undefined
      else current += ch
    } else if (quote === '"') {
      if (ch === '"') quote = undefined
      else if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) current += text[++i]
      else current += ch
    } else if (ch === "'" || ch === '"') {
      quote = ch
      inArg = true
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i]
      inArg = true
    } else if (/\s/.test(ch)) {
      if (inArg) args.push(current)
      current = ''
      inArg = false
    } else {
      current += ch
      inArg = true
    }
  }
  if (quote)
    throw new InputError(
      input,
      `has an unterminated ${quote === '"' ? 'double' : 'single'} quote`,
      'Close the quote, or give the command as a JSON array like ["sh", "-c", "echo hi"].'
    )
  if (inArg) args.push(current)
  return args
}

/** `command`: a JSON array of strings, or a shell-like string. */
export function parseCommand(input: string, value: unknown): string[] {
  let args: unknown = value
  if (typeof value === 'string') {
    const text = value.trim()
    if (text.startsWith('[')) {
      try {
        args = JSON.parse(text) as unknown
      } catch {
        throw new InputError(
          input,
          'starts with "[" but is not a JSON array',
          'Give a JSON array of strings like ["node", "server.js"], or a plain command line.'
        )
      }
    } else args = splitCommandLine(input, text)
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new InputError(
      input,
      'must be a list of strings or a command line',
      'For example ["node", "server.js"] or: node server.js --port 8080.'
    )
  }
  if (args.length === 0)
    throw new InputError(input, 'is an empty command', 'Give at least the program to run.')
  return args
}

export function validateTaskRoleArn(input: string, arn: string): string {
  validateRoleArn(arn, input)
  return arn
}

/** Task-level cpu: CPU units ("256", "1024") or vCPUs ("0.25 vCPU", "1 vcpu"); returned as written. */
export function validateTaskCpu(input: string, value: string): string {
  if (cpuUnits(value) === undefined) {
    throw new InputError(
      input,
      `"${value}" is not a task CPU value`,
      'Use CPU units like 256, 512, 1024, 2048, 4096 (or "1 vCPU").'
    )
  }
  return value.trim()
}

/** Task-level memory: MiB ("512", "2048") or GB ("1 GB", "2GB"); returned as written. */
export function validateTaskMemory(input: string, value: string): string {
  if (memoryMiB(value) === undefined) {
    throw new InputError(
      input,
      `"${value}" is not a task memory value`,
      'Use MiB like 512, 1024, 2048 (or "2 GB").'
    )
  }
  return value.trim()
}

export function cpuUnits(value: unknown): number | undefined {
  const text = String(value).trim()
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : undefined
  const m = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(text)
  return m ? Math.round(Number(m[1]) * 1024) || undefined : undefined
}

export function memoryMiB(value: unknown): number | undefined {
  const text = String(value).trim()
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : undefined
  const m = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(text)
  return m ? Math.round(Number(m[1]) * 1024) || undefined : undefined
}

export interface RuntimePlatform {
  operatingSystemFamily: string
  cpuArchitecture: string
}

/** `LINUX/ARM64`, `linux/arm64` (Docker platform style) or `WINDOWS_SERVER_2022_CORE/X86_64`. */
export function parseRuntimePlatform(input: string, value: string): RuntimePlatform {
  const [os, arch, extra] = value.trim().split('/')
  const families = modelEnum('RuntimePlatform.operatingSystemFamily')
  const arches = modelEnum('RuntimePlatform.cpuArchitecture')
  const osName = families.find((f) => f.toLowerCase() === (os ?? '').trim().toLowerCase())
  const archAlias: Record<string, string> = {
    amd64: 'X86_64',
    x86_64: 'X86_64',
    arm64: 'ARM64',
    aarch64: 'ARM64'
  }
  const archName =
    arches.find((a) => a === arch?.trim().toUpperCase()) ??
    archAlias[(arch ?? '').trim().toLowerCase()]
  if (!osName || !archName || extra !== undefined) {
    throw new InputError(
      input,
      `"${value}" is not <operating system>/<cpu architecture>`,
      `Use for example LINUX/ARM64 or linux/amd64; operating systems: ${families.join(', ')}; architectures: ${arches.join(', ')}.`
    )
  }
  return { operatingSystemFamily: osName, cpuArchitecture: archName }
}
