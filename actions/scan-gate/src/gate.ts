import {
  countBySeverity,
  type NormalizedFinding,
  type Severity,
  SEVERITIES,
  type SeverityCounts,
  severityRank
} from '@shipline/ecr'
import { type AllowlistEntry, daysUntil, isExpired } from './allowlist.js'

/** A severity, or NONE (report only). UNDEFINED as a threshold blocks on any finding at all. */
export const THRESHOLDS = [...SEVERITIES, 'NONE'] as const
export type Threshold = (typeof THRESHOLDS)[number]

/** Warn when an allowlist entry expires within this many days. */
export const EXPIRY_WARNING_DAYS = 7

export type Suppression = { kind: 'allowlist'; entry: AllowlistEntry } | { kind: 'unfixed' }

export interface GatedFinding extends NormalizedFinding {
  /** The image the finding was reported for. */
  digest: string
  platform?: string
  /** Severity at or above the threshold. */
  atThreshold: boolean
  suppression?: Suppression
  /** An expired allowlist entry matched this finding and no longer suppresses it. */
  expiredEntry?: AllowlistEntry
  blocking: boolean
}

export interface GatePolicy {
  threshold: Threshold
  ignoreUnfixed: boolean
  allowlist: AllowlistEntry[]
  /** YYYY-MM-DD (UTC). */
  today: string
}

export interface ImageFindings {
  digest: string
  platform?: string
  findings: NormalizedFinding[]
}

export interface GateResult {
  findings: GatedFinding[]
  counts: SeverityCounts
  blocking: GatedFinding[]
  /** Findings at or above the threshold that a valid allowlist entry or ignore-unfixed suppressed. */
  suppressed: GatedFinding[]
  /** Every expired entry in the allowlist, and whether it still matched a finding. */
  expiredEntries: { entry: AllowlistEntry; matched: boolean }[]
  /** Valid entries expiring within EXPIRY_WARNING_DAYS. */
  expiringSoon: { entry: AllowlistEntry; days: number }[]
  /** Valid entries that matched no finding (fixed, or a typo). */
  unusedEntries: AllowlistEntry[]
  passed: boolean
}

export function meetsThreshold(severity: Severity, threshold: Threshold): boolean {
  if (threshold === 'NONE') return false
  return severityRank(severity) >= severityRank(threshold)
}

export function entryMatches(entry: AllowlistEntry, finding: NormalizedFinding): boolean {
  if (entry.id.toUpperCase() !== finding.id.toUpperCase()) return false
  if (entry.package === undefined) return true
  return entry.package.toLowerCase() === (finding.package ?? '').toLowerCase()
}

/** Applies threshold, ignore-unfixed and the allowlist to the findings of every gated image. */
export function evaluateGate(images: readonly ImageFindings[], policy: GatePolicy): GateResult {
  const valid = policy.allowlist.filter((e) => !isExpired(e, policy.today))
  const expired = policy.allowlist.filter((e) => isExpired(e, policy.today))
  const used = new Set<AllowlistEntry>()
  const expiredUsed = new Set<AllowlistEntry>()
  const findings: GatedFinding[] = []
  for (const image of images) {
    for (const finding of image.findings) {
      const gated: GatedFinding = {
        ...finding,
        digest: image.digest,
        atThreshold: meetsThreshold(finding.severity, policy.threshold),
        blocking: false
      }
      if (image.platform) gated.platform = image.platform
      const entry = valid.find((e) => entryMatches(e, finding))
      if (entry) {
        gated.suppression = { kind: 'allowlist', entry }
        used.add(entry)
      } else {
        const stale = expired.find((e) => entryMatches(e, finding))
        if (stale) {
          gated.expiredEntry = stale
          expiredUsed.add(stale)
        }
        if (policy.ignoreUnfixed && finding.fixAvailable === false)
          gated.suppression = { kind: 'unfixed' }
      }
      gated.blocking = gated.atThreshold && gated.suppression === undefined
      findings.push(gated)
    }
  }
  const blocking = findings.filter((f) => f.blocking)
  return {
    findings,
    counts: countBySeverity(findings),
    blocking,
    suppressed: findings.filter((f) => f.atThreshold && f.suppression !== undefined),
    expiredEntries: expired.map((entry) => ({ entry, matched: expiredUsed.has(entry) })),
    expiringSoon: valid
      .map((entry) => ({ entry, days: daysUntil(entry.expires, policy.today) }))
      .filter((e) => e.days <= EXPIRY_WARNING_DAYS),
    unusedEntries: valid.filter((e) => !used.has(e)),
    passed: blocking.length === 0
  }
}
