import { randomBytes } from 'node:crypto'
import type { Caller } from './types.js'

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export function randomId(prefix: string, length = 16): string {
  const bytes = randomBytes(length)
  let out = prefix
  for (const b of bytes) out += ALNUM[b % ALNUM.length]
  return out
}

export function randomSecret(length = 40): string {
  return randomBytes(length)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, length)
    .padEnd(length, 'x')
}

/** IAM-style wildcard (`*`, `?`) → anchored RegExp. */
export function wildcardRegExp(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, flags)
}

/** Does an allow-list (`ecr:*`, `ecs:Describe*`, `*`) allow `service:Operation`? IAM actions are case-insensitive. */
export function isActionAllowed(allowed: string[] | undefined, action: string): boolean {
  if (allowed === undefined) return true
  return allowed.some((p) => wildcardRegExp(p, 'i').test(action))
}

export interface Credential {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  caller: Caller
}

/** Every access key the simulator issued (the bootstrap key, STS sessions, admin-made keys). */
export class CredentialStore {
  private byKey = new Map<string, Credential>()

  add(credential: Credential): Credential {
    this.byKey.set(credential.accessKeyId, credential)
    return credential
  }

  get(accessKeyId: string): Credential | undefined {
    return this.byKey.get(accessKeyId)
  }

  /** Every secret access key and session token issued so far (for leak checks in tests). */
  secrets(): string[] {
    const out: string[] = []
    for (const c of this.byKey.values()) {
      out.push(c.secretAccessKey)
      if (c.sessionToken) out.push(c.sessionToken)
    }
    return out
  }

  /** A fresh long-term (AKIA) or session (ASIA) key for `caller` (accessKeyId is filled in). */
  issue(caller: Omit<Caller, 'accessKeyId'>, session = false): Credential {
    const accessKeyId = randomId(session ? 'ASIA' : 'AKIA')
    return this.add({
      accessKeyId,
      secretAccessKey: randomSecret(),
      sessionToken: session ? randomBytes(96).toString('base64') : undefined,
      caller: { ...caller, accessKeyId }
    })
  }
}
