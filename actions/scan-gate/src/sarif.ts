import { createHash } from 'node:crypto'
import { type Severity, severityRank } from '@shipline/ecr'
import type { GatedFinding, GateResult } from './gate.js'

/** GitHub code scanning maps security-severity to its levels: ≥9 critical, ≥7 high, ≥4 medium, >0 low. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  INFORMATIONAL: '0.0',
  UNDEFINED: '0.0'
}

export type SarifLevel = 'error' | 'warning' | 'note'

export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === 'CRITICAL' || severity === 'HIGH') return 'error'
  if (severity === 'MEDIUM') return 'warning'
  return 'note'
}

export interface SarifContext {
  /** The image reference the user gave. */
  reference: string
  repositoryName: string
  /** Repository-relative path used as the physical location of every result (code scanning requires one). */
  dockerfile: string
  toolVersion: string
}

function absoluteUri(value: string | undefined): string | undefined {
  if (!value) return undefined
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined
  } catch {
    return undefined
  }
}

function artifactUri(path: string): string {
  return encodeURI(path.replace(/\\/g, '/').replace(/^\.\//, ''))
}

/** Stable across rebuilds of the same code: the digest is left out so an alert follows the vulnerability. */
export function findingFingerprint(finding: GatedFinding, repositoryName: string): string {
  return createHash('sha256')
    .update(
      [
        repositoryName,
        finding.platform ?? '',
        finding.id,
        finding.package ?? '',
        finding.installedVersion ?? ''
      ].join('\u0000')
    )
    .digest('hex')
}

function describe(finding: GatedFinding): string {
  const pkg = finding.package
    ? ` in ${finding.package}${finding.installedVersion ? ` ${finding.installedVersion}` : ''}`
    : ''
  const fix = finding.fixedVersion
    ? `; fixed in ${finding.fixedVersion}`
    : finding.fixAvailable === false
      ? '; no fix available'
      : ''
  const where = `${finding.digest}${finding.platform ? ` (${finding.platform})` : ''}`
  return `${finding.id}${pkg} (${finding.severity}${fix}) in image ${where}`
}

/** SARIF 2.1.0 with every finding of every severity (the threshold only decides `blocking`). */
export function buildSarif(gate: GateResult, context: SarifContext): Record<string, unknown> {
  const ruleIndex = new Map<string, number>()
  const rules: Record<string, unknown>[] = []
  const worst = new Map<string, GatedFinding>()
  for (const f of gate.findings) {
    const current = worst.get(f.id)
    if (!current || severityRank(f.severity) > severityRank(current.severity)) worst.set(f.id, f)
  }
  for (const [id, f] of [...worst.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    ruleIndex.set(id, rules.length)
    const helpUri = absoluteUri(f.uri)
    const text = f.description ?? f.title ?? id
    const rule: Record<string, unknown> = {
      id,
      shortDescription: { text: `${id} (${f.severity})` },
      fullDescription: { text },
      help: {
        text: `${text}${helpUri ? `\n${helpUri}` : ''}`,
        markdown: `**${id}** (${f.severity})\n\n${text}${helpUri ? `\n\n[Advisory](${helpUri})` : ''}`
      },
      defaultConfiguration: { level: sarifLevel(f.severity) },
      properties: {
        'security-severity': SECURITY_SEVERITY[f.severity],
        tags: ['security', 'vulnerability', 'container', f.severity.toLowerCase()]
      }
    }
    if (helpUri) rule['helpUri'] = helpUri
    rules.push(rule)
  }
  const results = gate.findings.map((f) => {
    const result: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: ruleIndex.get(f.id),
      level: sarifLevel(f.severity),
      message: { text: describe(f) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: artifactUri(context.dockerfile) },
            region: { startLine: 1 }
          },
          logicalLocations: [
            {
              name: `${context.repositoryName}@${f.digest}`,
              fullyQualifiedName: `${context.repositoryName}@${f.digest}${f.platform ? ` (${f.platform})` : ''}`,
              kind: 'resource'
            }
          ]
        }
      ],
      partialFingerprints: {
        'shiplineScanFinding/v1': findingFingerprint(f, context.repositoryName)
      },
      properties: {
        severity: f.severity,
        ...(f.package ? { package: f.package } : {}),
        ...(f.installedVersion ? { installedVersion: f.installedVersion } : {}),
        ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}),
        ...(f.platform ? { platform: f.platform } : {}),
        imageDigest: f.digest,
        blocking: f.blocking
      }
    }
    if (f.suppression) {
      result['suppressions'] = [
        {
          kind: 'external',
          status: 'accepted',
          justification:
            f.suppression.kind === 'allowlist'
              ? `allowlisted until ${f.suppression.entry.expires}: ${f.suppression.entry.reason}`
              : 'ignore-unfixed: no fix is available'
        }
      ]
    }
    return result
  })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Shipline scan-gate',
            informationUri: 'https://github.com/shipline/shipline',
            version: context.toolVersion,
            rules
          }
        },
        automationDetails: { id: `shipline-scan-gate/${context.repositoryName}/` },
        results,
        properties: { image: context.reference }
      }
    ]
  }
}
