import { escapeHtml, type SummarySection } from '@shipline/action-kit'
import { type ScanMode, SEVERITIES, type SeverityCounts, countBySeverity } from '@shipline/ecr'
import type { GatedFinding, GateResult, Threshold } from './gate.js'

export interface ImageOutcome {
  digest: string
  platform?: string
  mode: ScanMode
  status: string
  description?: string
  /** Set when the scan could not be used (fail-on-scan-error: false turned it into a warning). */
  scanError?: string
  findings: number
  pages: number
  completedAt?: string
}

export interface ReportContext {
  reference: string
  repositoryName: string
  /** Digest the reference resolved to (the index digest for an index). */
  digest: string
  isIndex: boolean
  threshold: Threshold
  ignoreUnfixed: boolean
  allowlistFile?: string
  images: ImageOutcome[]
  today: string
}

/** The machine-readable report written to `report-file`. */
export function buildReport(gate: GateResult, context: ReportContext): Record<string, unknown> {
  const strip = (f: GatedFinding): Record<string, unknown> => {
    const { suppression, expiredEntry, ...rest } = f
    return {
      ...rest,
      ...(suppression
        ? {
            suppressed:
              suppression.kind === 'allowlist'
                ? {
                    by: 'allowlist',
                    reason: suppression.entry.reason,
                    expires: suppression.entry.expires
                  }
                : { by: 'ignore-unfixed' }
          }
        : {}),
      ...(expiredEntry
        ? { expiredAllowlistEntry: { reason: expiredEntry.reason, expires: expiredEntry.expires } }
        : {})
    }
  }
  return {
    image: context.reference,
    repository: context.repositoryName,
    digest: context.digest,
    isIndex: context.isIndex,
    date: context.today,
    policy: {
      severityThreshold: context.threshold,
      ignoreUnfixed: context.ignoreUnfixed,
      allowlist: context.allowlistFile ?? null
    },
    passed: gate.passed,
    counts: gate.counts,
    blocking: gate.blocking.length,
    images: context.images,
    findings: gate.findings.map(strip),
    allowlist: {
      expired: gate.expiredEntries.map(({ entry, matched }) => ({ ...entry, matched })),
      expiringSoon: gate.expiringSoon.map(({ entry, days }) => ({ ...entry, days })),
      unused: gate.unusedEntries
    }
  }
}

function link(uri: string | undefined): string {
  if (!uri || !/^https?:\/\//.test(uri)) return ''
  return `<a href="${escapeHtml(uri)}">advisory</a>`
}

export const SUMMARY_ROW_LIMIT = 50

function limited<T>(items: readonly T[]): { rows: T[]; more: number } {
  return {
    rows: items.slice(0, SUMMARY_ROW_LIMIT),
    more: Math.max(0, items.length - SUMMARY_ROW_LIMIT)
  }
}

function countsRow(label: string, counts: SeverityCounts): string[] {
  return [escapeHtml(label), ...SEVERITIES.map((s) => String(counts[s]))]
}

/** One job-summary section: counts per severity, blocking findings, suppressed findings, allowlist problems. */
export function buildSummary(gate: GateResult, context: ReportContext): SummarySection {
  const verdict = gate.passed ? 'passed' : `failed: ${gate.blocking.length} blocking finding(s)`
  const rows: [string, string][] = [
    ['Image', escapeHtml(context.reference)],
    [
      'Digest',
      `${context.digest}${context.isIndex ? ' (image index: each platform image was gated)' : ''}`
    ],
    [
      'Scan',
      context.images
        .map(
          (i) =>
            `${i.platform ? `${i.platform}: ` : ''}${i.mode.toLowerCase()} ${i.status}${i.scanError ? ` (${escapeHtml(i.scanError)})` : ''}`
        )
        .join('<br>')
    ],
    [
      'Severity threshold',
      context.threshold === 'NONE' ? 'NONE (report only)' : `${context.threshold} and above`
    ],
    ['Ignore unfixed', String(context.ignoreUnfixed)],
    ['Result', gate.passed ? '✅ passed' : `❌ ${verdict}`]
  ]
  const tables: NonNullable<SummarySection['tables']> = []
  const countRows =
    context.images.length > 1
      ? [
          ...context.images.map((image) =>
            countsRow(
              image.platform ?? image.digest,
              countBySeverity(gate.findings.filter((f) => f.digest === image.digest))
            )
          ),
          countsRow('Total', gate.counts)
        ]
      : [countsRow('Findings', gate.counts)]
  tables.push({ caption: 'Findings by severity', header: ['', ...SEVERITIES], rows: countRows })

  const multi = context.images.length > 1
  if (gate.blocking.length) {
    const { rows: shown, more } = limited(gate.blocking)
    tables.push({
      caption: `Blocking findings${more ? ` (first ${SUMMARY_ROW_LIMIT} of ${gate.blocking.length})` : ''}`,
      header: [
        'Vulnerability',
        'Severity',
        'Package',
        'Installed',
        'Fixed in',
        ...(multi ? ['Platform'] : []),
        'Link',
        'Note'
      ],
      rows: shown.map((f) => [
        escapeHtml(f.id),
        f.severity,
        escapeHtml(f.package ?? ''),
        escapeHtml(f.installedVersion ?? ''),
        escapeHtml(f.fixedVersion ?? (f.fixAvailable === false ? 'no fix' : '')),
        ...(multi ? [escapeHtml(f.platform ?? '')] : []),
        link(f.uri),
        f.expiredEntry ? escapeHtml(`allowlist entry expired on ${f.expiredEntry.expires}`) : ''
      ])
    })
  }
  if (gate.suppressed.length) {
    const { rows: shown, more } = limited(gate.suppressed)
    tables.push({
      caption: `Suppressed findings${more ? ` (first ${SUMMARY_ROW_LIMIT} of ${gate.suppressed.length})` : ''}`,
      header: ['Vulnerability', 'Severity', 'Package', 'Reason', 'Expires'],
      rows: shown.map((f) => [
        escapeHtml(f.id),
        f.severity,
        escapeHtml(f.package ?? ''),
        escapeHtml(
          f.suppression?.kind === 'allowlist'
            ? f.suppression.entry.reason
            : 'ignore-unfixed: no fix available'
        ),
        f.suppression?.kind === 'allowlist' ? f.suppression.entry.expires : ''
      ])
    })
  }
  if (gate.expiredEntries.length) {
    tables.push({
      caption: 'Expired allowlist entries (they no longer suppress anything)',
      header: ['Vulnerability', 'Package', 'Expired', 'Reason', 'Matches a finding'],
      rows: gate.expiredEntries.map(({ entry, matched }) => [
        escapeHtml(entry.id),
        escapeHtml(entry.package ?? ''),
        entry.expires,
        escapeHtml(entry.reason),
        matched ? 'yes' : 'no'
      ])
    })
  }
  const notes: string[] = []
  if (gate.expiringSoon.length) {
    notes.push(
      `Allowlist entries expiring soon: ${gate.expiringSoon.map(({ entry, days }) => `${escapeHtml(entry.id)} (${days === 0 ? 'today' : `in ${days} day(s)`})`).join(', ')}.`
    )
  }
  if (gate.unusedEntries.length) {
    notes.push(
      `Allowlist entries that matched nothing (remove them?): ${gate.unusedEntries.map((e) => escapeHtml(e.id)).join(', ')}.`
    )
  }
  const section: SummarySection = {
    title: `Scan gate ${gate.passed ? 'passed' : 'failed'}: ${escapeHtml(context.reference)}`,
    rows,
    tables
  }
  if (notes.length) section.markdown = `\n${notes.join('\n\n')}\n`
  return section
}

export interface Annotation {
  title: string
  message: string
}

/** One error annotation per blocking vulnerability (per package and platform). */
export function blockingAnnotations(gate: GateResult, reference: string): Annotation[] {
  const seen = new Set<string>()
  const annotations: Annotation[] = []
  for (const f of gate.blocking) {
    const key = [f.id, f.package ?? '', f.installedVersion ?? '', f.platform ?? ''].join('\u0000')
    if (seen.has(key)) continue
    seen.add(key)
    const pkg = f.package
      ? ` in ${f.package}${f.installedVersion ? ` ${f.installedVersion}` : ''}`
      : ''
    const fix = f.fixedVersion
      ? ` Upgrade to ${f.fixedVersion}.`
      : f.fixAvailable === false
        ? ' No fix is available yet.'
        : ''
    const expired = f.expiredEntry
      ? ` Its allowlist entry expired on ${f.expiredEntry.expires}: review it and renew or remove it.`
      : ''
    annotations.push({
      title: `${f.id} (${f.severity})`,
      message: `${f.id}${pkg} blocks ${reference}${f.platform ? ` (${f.platform})` : ''}.${fix}${expired}${f.uri ? ` ${f.uri}` : ''}`
    })
  }
  return annotations
}
