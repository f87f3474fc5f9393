import { InputError, parseYamlText, readInputFile, resolvePathInput } from '@shipline/action-kit'

/** A reviewed exception: suppresses one vulnerability (optionally in one package) until it expires. */
export interface AllowlistEntry {
  id: string
  reason: string
  /** YYYY-MM-DD; the entry suppresses through that whole day (UTC) and stops the day after. */
  expires: string
  package?: string
  /** 1-based position in the file, for messages. */
  index: number
}

export interface Allowlist {
  file: string
  entries: AllowlistEntry[]
}

const KEYS = new Set(['id', 'reason', 'expires', 'package'])
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const EXAMPLE =
  'Each entry needs: - {id: CVE-2024-12345, reason: "why it is acceptable", expires: 2026-12-31, package: openssl}'

export function isValidDate(text: string): boolean {
  const m = DATE.exec(text)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(y, mo - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
}

/** Today's date in UTC as YYYY-MM-DD. */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10)
}

/** True once the expiry date has passed (an entry expiring today still suppresses today). */
export function isExpired(entry: Pick<AllowlistEntry, 'expires'>, today: string): boolean {
  return entry.expires < today
}

/** Whole days from `today` until `expires` (0 = expires today; negative = expired). */
export function daysUntil(expires: string, today: string): number {
  return Math.round(
    (Date.parse(`${expires}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000
  )
}

/**
 * Parses and validates an allowlist file's text: a YAML list of entries (or `allowlist:` holding that list).
 * Every problem is an InputError naming the file and the entry.
 */
export function parseAllowlist(text: string, file: string, input = 'allowlist'): Allowlist {
  let data: unknown
  try {
    data = parseYamlText(input, text)
  } catch (error) {
    if (error instanceof InputError) {
      throw new InputError(input, `${file}: ${error.message.replace(/^input "[^"]+": /, '')}`)
    }
    throw error
  }
  if (data === undefined || data === null) return { file, entries: [] }
  if (!Array.isArray(data) && typeof data === 'object' && 'allowlist' in data) {
    data = data.allowlist ?? []
  }
  if (!Array.isArray(data)) {
    throw new InputError(input, `${file} must be a YAML list of entries`, EXAMPLE)
  }
  const entries = data.map((raw: unknown, i): AllowlistEntry => {
    const index = i + 1
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new InputError(input, `${file} entry ${index} is not a mapping`, EXAMPLE)
    }
    const record = raw as Record<string, unknown>
    const idValue = record['id']
    const label = `${file} entry ${index}${typeof idValue === 'string' && idValue ? ` (${idValue})` : ''}`
    for (const key of Object.keys(record)) {
      if (!KEYS.has(key)) {
        throw new InputError(
          input,
          `${label} has an unknown key "${key}"`,
          'Allowed keys: id, reason, expires, package.'
        )
      }
    }
    const id = typeof idValue === 'string' ? idValue.trim() : ''
    if (!id)
      throw new InputError(
        input,
        `${label} has no "id"`,
        'Set id to the vulnerability id, e.g. CVE-2024-12345.'
      )
    const reasonValue = record['reason']
    const reason = typeof reasonValue === 'string' ? reasonValue.trim() : ''
    if (!reason) {
      throw new InputError(
        input,
        `${label} has no "reason"`,
        'Say why the risk is accepted (who reviewed it and why), e.g. reason: "not reachable: we never parse untrusted TIFF".'
      )
    }
    const expiresValue = record['expires']
    let expires: string
    if (expiresValue instanceof Date && !Number.isNaN(expiresValue.getTime()))
      expires = utcToday(expiresValue)
    else if (typeof expiresValue === 'string') expires = expiresValue.trim()
    else if (expiresValue === undefined || expiresValue === null) {
      throw new InputError(
        input,
        `${label} has no "expires"`,
        'Every exception must expire: add expires: YYYY-MM-DD (for example 90 days from now).'
      )
    } else
      expires =
        typeof expiresValue === 'number' ? String(expiresValue) : JSON.stringify(expiresValue)
    if (!isValidDate(expires)) {
      throw new InputError(
        input,
        `${label} has "expires: ${expires}", which is not a date`,
        'Write the date as YYYY-MM-DD, e.g. expires: 2026-12-31.'
      )
    }
    const entry: AllowlistEntry = { id, reason, expires, index }
    const pkg = record['package']
    if (pkg !== undefined && pkg !== null) {
      if (typeof pkg !== 'string' || !pkg.trim()) {
        throw new InputError(
          input,
          `${label} has an empty or non-text "package"`,
          'Remove "package" or set it to a package name, e.g. package: openssl.'
        )
      }
      entry.package = pkg.trim()
    }
    return entry
  })
  return { file, entries }
}

/** Reads the allowlist file (relative paths from the workspace). */
export function loadAllowlist(path: string, workspace: string, input = 'allowlist'): Allowlist {
  const full = resolvePathInput(input, path, 'file', {
    ...process.env,
    GITHUB_WORKSPACE: workspace
  })
  let text: string
  try {
    text = readInputFile(input, full, path)
  } catch (error) {
    if (error instanceof InputError) throw error
    const code = (error as { code?: string }).code
    throw new InputError(
      input,
      `cannot read ${path}${code ? ` (${code})` : ''}`,
      'Check the path (relative to the repository root) and that the step runs after actions/checkout.'
    )
  }
  return parseAllowlist(text, path, input)
}
