/** Kubernetes `Status` failures (`metav1.Status`) as the API server returns them. */
import type { ResourceType } from './resources.js'
import type { Obj } from './fields.js'

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj
  ) {
    super(message)
  }

  toStatus(): Obj {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code
    }
  }
}

export function qualified(t: ResourceType): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource
}

export function notFound(t: ResourceType, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${qualified(t)} "${name}" not found`, {
    name,
    ...(t.group ? { group: t.group } : {}),
    kind: t.resource
  })
}

export function alreadyExists(t: ResourceType, name: string): KubeError {
  return new KubeError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, {
    name,
    ...(t.group ? { group: t.group } : {}),
    kind: t.resource
  })
}

export interface Cause {
  field: string
  message: string
  reason?: string
}

/** 422 Invalid: `Deployment.apps "web" is invalid: spec.selector: Invalid value: …: field is immutable` */
export function invalid(t: ResourceType, name: string, causes: Cause[]): KubeError {
  const kindQ = t.group ? `${t.kind}.${t.group}` : t.kind
  const text = causes.map((c) => `${c.field}: ${c.message}`)
  const msg = `${kindQ} "${name}" is invalid: ${text.length === 1 ? text[0] : `[${text.join(', ')}]`}`
  return new KubeError(422, 'Invalid', msg, {
    name,
    ...(t.group ? { group: t.group } : {}),
    kind: t.kind,
    causes: causes.map((c) => ({
      reason: c.reason ?? 'FieldValueInvalid',
      message: c.message,
      field: c.field
    }))
  })
}

export function badRequest(message: string): KubeError {
  return new KubeError(400, 'BadRequest', message)
}
