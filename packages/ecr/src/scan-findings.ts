import { createHash } from 'node:crypto'
import type { EnhancedImageScanFinding, ImageScanFinding } from '@aws-sdk/client-ecr'

/** ECR's severity keys, most severe first. UNTRIAGED (enhanced) and anything unknown normalise to UNDEFINED. */
export const SEVERITIES = [
  'CRITICAL',
  'HIGH',
  'MEDIUM',
  'LOW',
  'INFORMATIONAL',
  'UNDEFINED'
] as const
export type Severity = (typeof SEVERITIES)[number]

export type SeverityCounts = Record<Severity, number>

/** One vulnerability in one package of one image: basic and enhanced findings share this shape. */
export interface NormalizedFinding {
  /** CVE id (or the vendor's id, e.g. GHSA-…, ALAS-…). */
  id: string
  severity: Severity
  /** The severity string ECR reported, when it differed from the normalised one (e.g. UNTRIAGED). */
  reportedSeverity?: string
  package?: string
  installedVersion?: string
  fixedVersion?: string
  /** true/false from enhanced scanning's fixAvailable/fixedInVersion; undefined when ECR does not say (basic). */
  fixAvailable?: boolean
  title?: string
  description?: string
  /** Link to the advisory. */
  uri?: string
  /** CVSS score when ECR reported one. */
  score?: number
  findingArn?: string
  source: 'basic' | 'enhanced'
}

export function normalizeSeverity(value: string | undefined): Severity {
  const upper = (value ?? '').trim().toUpperCase()
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : 'UNDEFINED'
}

export function emptyCounts(): SeverityCounts {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 }
}

/** Counts findings by severity ourselves: ECR's findingSeverityCounts may describe one page only. */
export function countBySeverity(
  findings: readonly Pick<NormalizedFinding, 'severity'>[]
): SeverityCounts {
  const counts = emptyCounts()
  for (const finding of findings) counts[finding.severity]++
  return counts
}

export function addCounts(a: SeverityCounts, b: SeverityCounts): SeverityCounts {
  const sum = emptyCounts()
  for (const s of SEVERITIES) sum[s] = a[s] + b[s]
  return sum
}

function attribute(finding: ImageScanFinding, key: string): string | undefined {
  const value = finding.attributes?.find((a) => a.key === key)?.value
  return value === undefined || value === '' ? undefined : value
}

function numberOrUndefined(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'number' ? value : Number(value)
  return Number.isFinite(n) ? n : undefined
}

function withReported(
  severity: Severity,
  reported: string | undefined
): Pick<NormalizedFinding, 'severity' | 'reportedSeverity'> {
  return reported !== undefined && reported.toUpperCase() !== severity
    ? { severity, reportedSeverity: reported }
    : { severity }
}

/** A basic-scanning finding: name = CVE id, package in attributes. */
export function normalizeBasicFinding(finding: ImageScanFinding): NormalizedFinding {
  const severity = normalizeSeverity(finding.severity)
  const result: NormalizedFinding = {
    id: finding.name ?? 'UNKNOWN',
    ...withReported(severity, finding.severity),
    source: 'basic'
  }
  const pkg = attribute(finding, 'package_name')
  if (pkg) result.package = pkg
  const version = attribute(finding, 'package_version')
  if (version) result.installedVersion = version
  if (finding.description) result.description = finding.description
  if (finding.uri) result.uri = finding.uri
  const score = numberOrUndefined(
    attribute(finding, 'CVSS3_SCORE') ?? attribute(finding, 'CVSS2_SCORE')
  )
  if (score !== undefined) result.score = score
  return result
}

const NO_FIX = new Set(['', 'NotAvailable', 'NOT_AVAILABLE', 'None'])

/** An enhanced (Inspector) finding, expanded to one entry per vulnerable package. */
export function normalizeEnhancedFinding(finding: EnhancedImageScanFinding): NormalizedFinding[] {
  const details = finding.packageVulnerabilityDetails
  const id = details?.vulnerabilityId ?? finding.title ?? finding.findingArn ?? 'UNKNOWN'
  const severity = normalizeSeverity(finding.severity)
  const base: NormalizedFinding = {
    id,
    ...withReported(severity, finding.severity),
    source: 'enhanced'
  }
  if (finding.title) base.title = finding.title
  if (finding.description) base.description = finding.description
  const uri =
    details?.sourceUrl ?? details?.referenceUrls?.[0] ?? finding.remediation?.recommendation?.url
  if (uri) base.uri = uri
  if (finding.score !== undefined) base.score = finding.score
  if (finding.findingArn) base.findingArn = finding.findingArn
  const fixAvailable = finding.fixAvailable?.toUpperCase()
  const packages = details?.vulnerablePackages ?? []
  if (packages.length === 0) {
    return [fixAvailable === undefined ? base : { ...base, fixAvailable: fixAvailable !== 'NO' }]
  }
  return packages.map((pkg) => {
    const entry: NormalizedFinding = { ...base }
    if (pkg.name) entry.package = pkg.name
    const version = [
      pkg.epoch ? `${pkg.epoch}:` : '',
      pkg.version ?? '',
      pkg.release ? `-${pkg.release}` : ''
    ].join('')
    if (pkg.version) entry.installedVersion = version
    const fixed = pkg.fixedInVersion
    if (fixed !== undefined && !NO_FIX.has(fixed)) entry.fixedVersion = fixed
    // Per package: a fixed version settles it; otherwise the finding-level flag (YES/NO/PARTIAL) decides.
    if (entry.fixedVersion) entry.fixAvailable = true
    else if (fixed !== undefined && NO_FIX.has(fixed)) entry.fixAvailable = false
    else if (fixAvailable !== undefined) entry.fixAvailable = fixAvailable !== 'NO'
    return entry
  })
}

/** Normalises one complete reading (all pages) of DescribeImageScanFindings, sorted most severe first. */
export function normalizeFindings(
  basic: readonly ImageScanFinding[],
  enhanced: readonly EnhancedImageScanFinding[]
): NormalizedFinding[] {
  const all = [...basic.map(normalizeBasicFinding), ...enhanced.flatMap(normalizeEnhancedFinding)]
  return all.sort(compareFindings)
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity)
}

export function compareFindings(a: NormalizedFinding, b: NormalizedFinding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a.id.localeCompare(b.id) ||
    (a.package ?? '').localeCompare(b.package ?? '') ||
    (a.installedVersion ?? '').localeCompare(b.installedVersion ?? '')
  )
}

/**
 * A stable digest of a complete reading: the same set of (id, package, version, severity, fix) gives the same
 * value whatever the page order. Two equal consecutive fingerprints mean the findings have settled.
 */
export function findingsFingerprint(findings: readonly NormalizedFinding[]): string {
  const lines = findings
    .map((f) =>
      [f.id, f.package ?? '', f.installedVersion ?? '', f.severity, f.fixedVersion ?? ''].join(
        '\u0000'
      )
    )
    .sort()
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}
