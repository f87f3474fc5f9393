/**
 * Small helpers shared by the ECS, CodeDeploy and EKS models: typed access to untyped JSON input,
 * AWS-style ids, epoch timestamps and opaque pagination tokens.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { AwsError } from '../core/types.js'

export type Json = Record<string, unknown>

export function str(input: Json, key: string): string | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string')
    throw new AwsError('InvalidParameterException', `${key} must be a string.`)
  return v
}

export function num(input: Json, key: string): number | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AwsError('InvalidParameterException', `${key} must be a number.`)
  }
  return v
}

export function bool(input: Json, key: string): boolean | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean')
    throw new AwsError('InvalidParameterException', `${key} must be a boolean.`)
  return v
}

export function obj(input: Json, key: string): Json | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new AwsError('InvalidParameterException', `${key} must be an object.`)
  }
  return v as Json
}

export function arr<T = unknown>(input: Json, key: string): T[] | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw new AwsError('InvalidParameterException', `${key} must be a list.`)
  return v as T[]
}

/** A string member, or `fallback` when absent or not a string (numbers are rendered). */
export function text(v: unknown, fallback: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return fallback
}

export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** AWS JSON protocols carry timestamps as epoch seconds. */
export function epoch(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

export function uuid(): string {
  return randomUUID()
}

/** 19 decimal digits, like ECS deployment ids (ecs-svc/1234567890123456789). */
export function digits(n: number): string {
  let out = String(1 + (randomBytes(1)[0]! % 9))
  while (out.length < n) out += String(randomBytes(1)[0]! % 10)
  return out
}

/** Removes undefined members so responses carry only what is set. */
export function compact<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k]
  return o
}

/**
 * Slices `items` for one page. Tokens are opaque to clients (base64 of the offset and a salt tied to the
 * listing) and a token from another listing is refused with `errorCode`.
 */
export function paginate<T>(
  items: T[],
  nextToken: string | undefined,
  maxResults: number | undefined,
  opts: { max: number; salt: string; errorCode: string; errorMessage?: string }
): { page: T[]; nextToken: string | undefined } {
  let start = 0
  if (nextToken !== undefined && nextToken !== '') {
    const decoded = Buffer.from(nextToken, 'base64url').toString('utf8')
    const m = /^(\d+):(.*)$/.exec(decoded)
    if (!m || m[2] !== opts.salt) {
      throw new AwsError(opts.errorCode, opts.errorMessage ?? 'The specified nextToken is invalid.')
    }
    start = Number(m[1])
  }
  const size = maxResults ?? opts.max
  if (!Number.isInteger(size) || size < 1 || size > opts.max) {
    throw new AwsError(opts.errorCode, `maxResults must be between 1 and ${opts.max}.`)
  }
  const page = items.slice(start, start + size)
  const end = start + page.length
  return {
    page,
    nextToken:
      end < items.length ? Buffer.from(`${end}:${opts.salt}`).toString('base64url') : undefined
  }
}
