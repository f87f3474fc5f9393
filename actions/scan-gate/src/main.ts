import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { core } from '@shipline/action-kit'
import { ECRClient } from '@aws-sdk/client-ecr'
import {
  ActionError,
  logUntrusted,
  runAction,
  setOutputs,
  withGroup,
  writeSummary
} from '@shipline/action-kit'
import { createAwsClients, patientClient, realSleep } from '@shipline/aws'
import {
  DEFAULT_SETTLE_MS,
  detectScanMode,
  ecrClockNow,
  type EcrSender,
  formatDuration,
  Poller,
  resolveScanTargets,
  type ScanClock,
  ScanStatusError,
  targetName,
  waitForScan
} from '@shipline/ecr'
import { utcToday } from './allowlist.js'
import { evaluateGate, type ImageFindings } from './gate.js'
import { ACTION_NAME, getInputs, type ScanGateInputs } from './inputs.js'
import {
  blockingAnnotations,
  buildReport,
  buildSummary,
  type ImageOutcome,
  type ReportContext
} from './report.js'
import { buildSarif } from './sarif.js'

export interface ScanGateDeps {
  getInputs: () => ScanGateInputs
  /** Authenticates and returns the ECR client (called after every input was validated). */
  ecr: (inputs: ScanGateInputs) => Promise<EcrSender>
  clock: ScanClock
  /** Today's date (UTC, YYYY-MM-DD) for allowlist expiry. */
  today: () => string
  /**
   * Epoch ms to compare with ECR's scan completion time for "max-scan-age". Default: ECR's own clock (the local
   * clock corrected by the Date header of ECR's responses), so a skewed runner clock cannot make a scan look fresh.
   */
  wallNow?: () => number
}

/** The longest one ECR call is retried through transient failures (never longer than "timeout"). */
const PATIENCE_SECONDS = 120

export function defaultDeps(): ScanGateDeps {
  return {
    getInputs: () => getInputs(),
    // A throttling storm or a 5xx burst outlasting the SDK's few attempts slows the gate down instead of failing it.
    ecr: async (inputs) =>
      patientClient((await createAwsClients(inputs.auth)).client(ECRClient), {
        budgetMs: Math.min(inputs.timeoutSeconds, PATIENCE_SECONDS) * 1000
      }),
    clock: { now: () => Date.now(), sleep: realSleep },
    today: () => utcToday()
  }
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
}

function combinedStatus(images: ImageOutcome[]): string {
  const statuses = [...new Set(images.map((i) => i.status))]
  if (statuses.length === 1) return statuses[0] as string
  return images.map((i) => `${i.platform ?? i.digest}:${i.status}`).join(',')
}

export async function run(deps: ScanGateDeps = defaultDeps()): Promise<void> {
  await runAction(ACTION_NAME, async () => {
    const inputs = deps.getInputs()
    const today = deps.today()
    const ecr = await deps.ecr(inputs)

    const resolved = await withGroup('Resolving the image', async () => {
      const r = await resolveScanTargets(ecr, inputs.image, inputs.platform)
      core.info(`${r.reference} → ${r.digest}${r.mediaType ? ` (${r.mediaType})` : ''}`)
      if (r.isIndex) {
        core.info(
          `${r.reference} is an image index (${r.availablePlatforms.length} platform image(s)` +
            `${r.skippedChildren ? `, ${r.skippedChildren} attestation/unknown manifest(s)` : ''}). ECR cannot scan an index, ` +
            `so scan-gate gates each selected platform image instead (platform: ${inputs.platform}): ` +
            r.targets.map((t) => `${t.platform} ${t.digest}`).join(', ')
        )
      }
      return r
    })
    core.setOutput('digest', resolved.digest)

    const poller = new Poller(deps.clock, inputs.timeoutSeconds * 1000)
    const images: ImageFindings[] = []
    const outcomes: ImageOutcome[] = []
    await withGroup(
      `Waiting for the ECR scan (timeout ${formatDuration(inputs.timeoutSeconds * 1000)})`,
      async () => {
        const mode = await detectScanMode(ecr, resolved)
        core.info(`Scan mode: ${mode.note}`)
        const settle = (m: 'BASIC' | 'ENHANCED'): number =>
          inputs.settleSeconds !== undefined ? inputs.settleSeconds * 1000 : DEFAULT_SETTLE_MS[m]
        core.info(
          `Findings are trusted once unchanged for ${inputs.settleSeconds !== undefined ? formatDuration(inputs.settleSeconds * 1000) : `${formatDuration(DEFAULT_SETTLE_MS.ENHANCED)} (enhanced) / ${formatDuration(DEFAULT_SETTLE_MS.BASIC)} (basic)`} after the scan completes ("settle-time")`
        )
        if (mode.mode === 'ENHANCED' && !mode.frequency) core.warning(`Scan mode: ${mode.note}`)
        for (const target of resolved.targets) {
          try {
            const result = await waitForScan(ecr, target, {
              mode: mode.mode,
              poller,
              // scan status descriptions come from ECR / Inspector: never let them issue workflow commands
              log: (m) => logUntrusted(m),
              settleMs: settle,
              maxScanAgeMs: inputs.maxScanAgeSeconds * 1000,
              wallNow: deps.wallNow ?? (() => ecrClockNow(ecr))
            })
            images.push({
              digest: target.digest,
              platform: target.platform,
              findings: result.findings
            })
            const outcome: ImageOutcome = {
              digest: target.digest,
              mode: result.mode,
              status: result.status,
              findings: result.findings.length,
              pages: result.pages
            }
            if (target.platform) outcome.platform = target.platform
            if (result.description) outcome.description = result.description
            if (result.completedAt) outcome.completedAt = result.completedAt.toISOString()
            outcomes.push(outcome)
          } catch (error) {
            if (error instanceof ScanStatusError) {
              core.setOutput('scan-status', error.status)
              if (inputs.failOnScanError) throw error
              core.warning(
                `${error.message} Passing because fail-on-scan-error is false: ${targetName(target)} was NOT gated.`
              )
              const outcome: ImageOutcome = {
                digest: target.digest,
                mode: mode.mode,
                status: error.status,
                scanError: error.description ?? error.status,
                findings: 0,
                pages: 0
              }
              if (target.platform) outcome.platform = target.platform
              outcomes.push(outcome)
              continue
            }
            throw error
          }
        }
      }
    )

    const gate = evaluateGate(images, {
      threshold: inputs.threshold,
      ignoreUnfixed: inputs.ignoreUnfixed,
      allowlist: inputs.allowlist?.entries ?? [],
      today
    })
    const context: ReportContext = {
      reference: resolved.reference,
      repositoryName: resolved.repositoryName,
      digest: resolved.digest,
      isIndex: resolved.isIndex,
      threshold: inputs.threshold,
      ignoreUnfixed: inputs.ignoreUnfixed,
      images: outcomes,
      today
    }
    if (inputs.allowlist) context.allowlistFile = inputs.allowlist.file

    if (inputs.sarifFile) {
      writeJson(
        inputs.sarifFile,
        buildSarif(gate, {
          reference: resolved.reference,
          repositoryName: resolved.repositoryName,
          dockerfile: inputs.dockerfile,
          toolVersion: process.env['GITHUB_ACTION_REF'] || 'dev'
        })
      )
      core.info(`SARIF (${gate.findings.length} result(s), every severity): ${inputs.sarifFile}`)
    }
    if (inputs.reportFile) {
      writeJson(inputs.reportFile, buildReport(gate, context))
      core.info(`JSON report: ${inputs.reportFile}`)
    }

    for (const { entry, matched } of gate.expiredEntries) {
      core.warning(
        `Allowlist ${inputs.allowlist?.file ?? ''} entry ${entry.index} (${entry.id}) expired on ${entry.expires} and no longer suppresses anything` +
          `${matched ? ': the finding it covered now counts again' : ''}. Review it, then renew the expiry or remove the entry.`
      )
    }
    for (const { entry, days } of gate.expiringSoon) {
      core.warning(
        `Allowlist entry ${entry.id} expires ${days === 0 ? 'today' : `in ${days} day(s) (${entry.expires})`}: review it before it starts blocking.`
      )
    }
    for (const annotation of blockingAnnotations(gate, resolved.reference)) {
      core.error(annotation.message, { title: annotation.title })
    }

    const counts = gate.counts
    setOutputs({
      critical: counts.CRITICAL,
      high: counts.HIGH,
      medium: counts.MEDIUM,
      low: counts.LOW,
      informational: counts.INFORMATIONAL,
      undefined: counts.UNDEFINED,
      blocking: gate.blocking.length,
      passed: gate.passed,
      'scan-status': combinedStatus(outcomes),
      digest: resolved.digest
    })
    await writeSummary(buildSummary(gate, context))

    core.info(
      `Findings: ${Object.entries(counts)
        .map(([s, n]) => `${s} ${n}`)
        .join(
          ', '
        )}; threshold ${inputs.threshold}; ${gate.blocking.length} blocking, ${gate.suppressed.length} suppressed`
    )
    if (!gate.passed) {
      const ids = [...new Set(gate.blocking.map((f) => f.id))]
      const expired = gate.blocking.filter((f) => f.expiredEntry)
      throw new ActionError(
        `${gate.blocking.length} blocking finding(s) at or above ${inputs.threshold} in ${resolved.reference}: ` +
          `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? `, and ${ids.length - 10} more` : ''}` +
          (expired.length
            ? ` (allowlist entr${expired.length === 1 ? 'y' : 'ies'} for ${[...new Set(expired.map((f) => f.id))].join(', ')} expired)`
            : ''),
        'Upgrade the packages listed in the job summary and rebuild, or add a reviewed allowlist entry (id, reason, expires) for each accepted risk.'
      )
    }
    core.info(`Scan gate passed for ${resolved.reference}`)
  })
}
