import { createHash } from 'node:crypto'
import { isAbsolute, relative, sep } from 'node:path'
import type { BuildInputs } from './inputs.js'

/**
 * The image label that records which build inputs produced an image, so that reusing the image of a commit is
 * safe only when the inputs match. Every field is a truncated SHA-256, never the value itself: build-arg values may
 * be secret, and the label is readable by anyone who can pull the image.
 */
export const FINGERPRINT_LABEL = 'dev.shipline.build-inputs'

const VERSION = 'v1'

/** The inputs the fingerprint covers, in the order they are named in messages. */
export const FINGERPRINT_FIELDS = [
  'context',
  'dockerfile',
  'target',
  'platforms',
  'build-arg-names',
  'build-arg-values'
] as const

export type FingerprintField = (typeof FINGERPRINT_FIELDS)[number]
export type Fingerprint = Record<FingerprintField, string>

function hash(field: string, value: string): string {
  return createHash('sha256')
    .update(`shipline-build-inputs/${VERSION}\0${field}\0${value}`)
    .digest('hex')
    .slice(0, 16)
}

/** A workspace-relative path with forward slashes, so that runners with other workspace paths agree. */
function workspacePath(workspace: string, path: string): string {
  const rel = isAbsolute(path) ? relative(workspace, path) : path
  return (rel === '' ? '.' : rel).split(sep).join('/')
}

/** The fingerprint of the build inputs (context, dockerfile, target, platforms, build-arg names and values). */
export function buildFingerprint(build: BuildInputs, workspace: string): Fingerprint {
  const args = [...build.buildArgs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const values: Record<FingerprintField, string> = {
    context: workspacePath(workspace, build.context),
    dockerfile: workspacePath(workspace, build.dockerfile),
    target: build.target ?? '',
    platforms: [...new Set(build.platforms)].sort().join(','),
    'build-arg-names': args.map((a) => a.key).join(','),
    'build-arg-values': JSON.stringify(args.map((a) => [a.key, a.value]))
  }
  return Object.fromEntries(FINGERPRINT_FIELDS.map((f) => [f, hash(f, values[f])])) as Fingerprint
}

/** The label value: `v1;context=<h>;dockerfile=<h>;…`. */
export function formatFingerprint(fingerprint: Fingerprint): string {
  return [VERSION, ...FINGERPRINT_FIELDS.map((f) => `${f}=${fingerprint[f]}`)].join(';')
}

/** Parses a label value; undefined when it is missing or not a fingerprint this version understands. */
export function parseFingerprint(text: string | undefined): Fingerprint | undefined {
  if (!text) return undefined
  const [version, ...parts] = text.split(';')
  if (version !== VERSION) return undefined
  const fields = new Map(
    parts.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])
  )
  const out: Partial<Fingerprint> = {}
  for (const field of FINGERPRINT_FIELDS) {
    const value = fields.get(field)
    if (!value || !/^[0-9a-f]{16}$/.test(value)) return undefined
    out[field] = value
  }
  return out as Fingerprint
}

/** The input names whose fingerprints differ (build-arg names and values both map to "build-args"). */
export function differingInputs(expected: Fingerprint, actual: Fingerprint): string[] {
  const out: string[] = []
  for (const field of FINGERPRINT_FIELDS) {
    if (expected[field] === actual[field]) continue
    const input = field.startsWith('build-arg') ? 'build-args' : field
    if (!out.includes(input)) out.push(input)
  }
  return out
}

/** Human wording for one differing input (never a build-arg value). */
export function describeDifference(input: string, expected: Fingerprint, actual: Fingerprint) {
  if (input !== 'build-args') return `"${input}"`
  return expected['build-arg-names'] !== actual['build-arg-names']
    ? '"build-args" (different argument names)'
    : '"build-args" (a value differs; values are compared by hash and never printed)'
}
