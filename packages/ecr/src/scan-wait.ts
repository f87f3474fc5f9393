import type { EnhancedImageScanFinding, ImageScanFinding } from '@aws-sdk/client-ecr'
import { ActionError, errorMessage } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError, isAccessDenied } from '@shipline/aws'
import { isTransientError } from '@shipline/aws'
import { findingsFingerprint, type NormalizedFinding, normalizeFindings } from './scan-findings.js'
import type { EcrImageLocation, EcrSender, ScanTarget } from './scan-image.js'
import { loadEcr } from './sdk.js'

/** BASIC / ENHANCED from the registry scanning configuration; UNKNOWN when it could not be read. */
export type ScanMode = 'BASIC' | 'ENHANCED' | 'UNKNOWN'

export interface ScanModeInfo {
  mode: ScanMode
  /** The scan frequency of the first rule whose filter matches the repository (SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL). */
  frequency: string | undefined
  /** Why the mode is what it is, for the log. */
  note: string
}

/** ECR repository filters: WILDCARD, where "*" matches any run of characters. */
export function wildcardMatches(filter: string, repository: string): boolean {
  const pattern = filter
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${pattern}$`).test(repository)
}

export async function detectScanMode(
  ecr: EcrSender,
  location: EcrImageLocation
): Promise<ScanModeInfo> {
  let config
  try {
    const out = await ecr.send(new (await loadEcr()).GetRegistryScanningConfigurationCommand({}))
    config = out.scanningConfiguration
  } catch (error) {
    if (isAccessDenied(error)) {
      return {
        mode: 'UNKNOWN',
        frequency: undefined,
        note: `could not read the registry scanning configuration (${awsErrorCode(error) ?? 'AccessDenied'}); grant ecr:GetRegistryScanningConfiguration for exact mode detection. Proceeding as basic, switching to enhanced if ECR says so`
      }
    }
    throw describeAwsError(error, { action: 'ecr:GetRegistryScanningConfiguration' })
  }
  const mode: ScanMode = config?.scanType === 'ENHANCED' ? 'ENHANCED' : 'BASIC'
  const rule = (config?.rules ?? []).find((r) =>
    (r.repositoryFilters ?? []).some(
      (f) => f.filter !== undefined && wildcardMatches(f.filter, location.repositoryName)
    )
  )
  const frequency = rule?.scanFrequency
  const note =
    mode === 'ENHANCED'
      ? frequency
        ? `enhanced scanning (Amazon Inspector, ${frequency}) covers "${location.repositoryName}"`
        : `enhanced scanning is on, but no scanning rule's filter matches "${location.repositoryName}": Inspector may never scan it`
      : frequency === 'SCAN_ON_PUSH'
        ? `basic scanning with scan on push for "${location.repositoryName}"`
        : `basic scanning (manual for "${location.repositoryName}"): a scan is started when none exists`
  return { mode, frequency, note }
}

/** Statuses after which there is nothing to wait for and nothing to gate on. */
export const SCAN_ERROR_STATUSES = [
  'FAILED',
  'UNSUPPORTED_IMAGE',
  'SCAN_ELIGIBILITY_EXPIRED',
  'FINDINGS_UNAVAILABLE',
  'IMAGE_ARCHIVED',
  'LIMIT_EXCEEDED'
] as const
const DONE_STATUSES = new Set(['COMPLETE', 'ACTIVE'])

const ERROR_HINTS: Record<string, string> = {
  FAILED:
    'Re-run the job; if it keeps failing, check the image in the ECR console (Vulnerabilities tab).',
  UNSUPPORTED_IMAGE:
    'ECR cannot scan this image (its OS or media type is not supported, or it is an image index): gate a per-platform image, or set "fail-on-scan-error: false" to pass with a warning.',
  SCAN_ELIGIBILITY_EXPIRED:
    "Inspector's re-scan duration for this image has lapsed: push the image again or lengthen the ECR re-scan duration in Amazon Inspector.",
  FINDINGS_UNAVAILABLE:
    'Findings are not available (the image may be too old or no longer covered): push the image again.',
  IMAGE_ARCHIVED: 'The image is archived: restore it (ECR image storage class) before scanning.',
  LIMIT_EXCEEDED: 'ECR scan limits were exceeded: re-run later.'
}

/** The scan ended in a state that cannot be gated on (FAILED, UNSUPPORTED_IMAGE, …). */
export class ScanStatusError extends ActionError {
  readonly status: string
  readonly description: string | undefined
  readonly target: string

  constructor(target: string, status: string, description: string | undefined) {
    super(
      `The ECR scan of ${target} ended with status ${status}${description ? ` (${description.replace(/\.$/, '')})` : ''}`,
      ERROR_HINTS[status] ?? 'Check the image in the ECR console.'
    )
    this.name = 'ScanStatusError'
    this.status = status
    this.description = description
    this.target = target
  }
}

export interface ScanClock {
  /** Milliseconds (monotonic or epoch; only differences are used). */
  now: () => number
  sleep: (ms: number) => Promise<void>
}

export interface PollSettings {
  initialIntervalMs: number
  maxIntervalMs: number
  /** Interval multiplier while nothing changes. */
  growth: number
}

export const DEFAULT_POLL: PollSettings = {
  initialIntervalMs: 2000,
  maxIntervalMs: 15_000,
  growth: 1.5
}

/** One deadline for the whole run (every platform), and an interval that grows while nothing changes. */
export class Poller {
  readonly startedAt: number
  readonly deadline: number
  private interval: number
  polls = 0

  constructor(
    readonly clock: ScanClock,
    readonly timeoutMs: number,
    readonly settings: PollSettings = DEFAULT_POLL
  ) {
    this.startedAt = clock.now()
    this.deadline = this.startedAt + timeoutMs
    this.interval = settings.initialIntervalMs
  }

  elapsedMs(): number {
    return this.clock.now() - this.startedAt
  }

  /** Something changed: poll again soon. */
  reset(): void {
    this.interval = this.settings.initialIntervalMs
  }

  /**
   * Sleeps for the current interval (at most `capMs`, e.g. until a settle window ends), never past the deadline;
   * false when the deadline has been reached.
   */
  async wait(capMs = Infinity): Promise<boolean> {
    const remaining = this.deadline - this.clock.now()
    if (remaining <= 0) return false
    const ms = Math.max(1, Math.min(this.interval, remaining, capMs))
    this.interval = Math.min(
      this.settings.maxIntervalMs,
      Math.round(this.interval * this.settings.growth)
    )
    await this.clock.sleep(ms)
    return true
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  return s % 60 ? `${m}m${s % 60}s` : `${m}m`
}

export interface FindingsReading {
  status: string
  description: string | undefined
  findings: NormalizedFinding[]
  pages: number
  completedAt: Date | undefined
  /** ECR's own counts from the first page (diagnostics only: never used to gate). */
  reportedCounts: Record<string, number> | undefined
}

export const MAX_FINDINGS_PAGES = 1000

type Page = Awaited<ReturnType<typeof describeFindingsPage>>

async function describeFindingsPage(ecr: EcrSender, target: ScanTarget, nextToken?: string) {
  return ecr.send(
    new (await loadEcr()).DescribeImageScanFindingsCommand({
      repositoryName: target.repositoryName,
      registryId: target.registryId,
      imageId: { imageDigest: target.digest },
      maxResults: 1000,
      nextToken
    })
  )
}

/** Follows nextToken from a first page to the end, collecting both `findings` and `enhancedFindings`. */
export async function readAllFindings(
  ecr: EcrSender,
  target: ScanTarget,
  first?: Page
): Promise<FindingsReading> {
  const page1 = first ?? (await describeFindingsPage(ecr, target))
  const basic: ImageScanFinding[] = [...(page1.imageScanFindings?.findings ?? [])]
  const enhanced: EnhancedImageScanFinding[] = [
    ...(page1.imageScanFindings?.enhancedFindings ?? [])
  ]
  let token = page1.nextToken
  let pages = 1
  const seen = new Set<string>()
  while (token) {
    if (seen.has(token)) {
      throw new ActionError(
        `ECR DescribeImageScanFindings repeated a pagination token for ${targetName(target)}`,
        'Re-run the job.'
      )
    }
    if (pages >= MAX_FINDINGS_PAGES) {
      throw new ActionError(
        `ECR returned more than ${MAX_FINDINGS_PAGES} pages of findings for ${targetName(target)}`,
        'Re-run the job.'
      )
    }
    seen.add(token)
    const page = await describeFindingsPage(ecr, target, token)
    basic.push(...(page.imageScanFindings?.findings ?? []))
    enhanced.push(...(page.imageScanFindings?.enhancedFindings ?? []))
    token = page.nextToken
    pages++
  }
  const counts = page1.imageScanFindings?.findingSeverityCounts
  return {
    status: page1.imageScanStatus?.status ?? 'UNKNOWN',
    description: page1.imageScanStatus?.description,
    findings: normalizeFindings(basic, enhanced),
    pages,
    completedAt: page1.imageScanFindings?.imageScanCompletedAt,
    reportedCounts: counts ? { ...counts } : undefined
  }
}

export function targetName(target: ScanTarget): string {
  return `${target.repositoryName}@${target.digest}${target.platform ? ` (${target.platform})` : ''}`
}

/**
 * How long the findings must stay unchanged after the first complete reading before they are trusted. Amazon
 * Inspector (enhanced) reports ACTIVE with an empty or partial list that fills in seconds to a minute later;
 * basic scans report everything with COMPLETE, so a short window suffices.
 */
export const DEFAULT_SETTLE_MS: Record<'BASIC' | 'ENHANCED', number> = {
  BASIC: 10_000,
  ENHANCED: 60_000
}

/**
 * ECR's clock in epoch ms: the local clock plus the offset the AWS SDK derives from the Date header of every
 * response (config.systemClockOffset); the local clock when the client does not expose one.
 */
export function ecrClockNow(ecr: EcrSender): number {
  const offset = (ecr as { config?: { systemClockOffset?: unknown } }).config?.systemClockOffset
  return Date.now() + (typeof offset === 'number' && Number.isFinite(offset) ? offset : 0)
}

export interface WaitOptions {
  mode: ScanMode
  poller: Poller
  log: (message: string) => void
  /** Settle window in ms for the mode that applies (default DEFAULT_SETTLE_MS). */
  settleMs?: (mode: 'BASIC' | 'ENHANCED') => number
  /** A basic scan that completed longer ago than this (ms) is restarted rather than trusted; undefined = never. */
  maxScanAgeMs?: number
  /** Wall-clock time in epoch ms, to compare with ECR's completion time (default Date.now). */
  wallNow?: () => number
}

export interface ScanResult {
  target: ScanTarget
  /** The mode that applied in the end (UNKNOWN turns into BASIC or ENHANCED when ECR tells). */
  mode: ScanMode
  status: string
  description: string | undefined
  findings: NormalizedFinding[]
  pages: number
  completedAt: Date | undefined
  /** Whether we called StartImageScan. */
  startedScan: boolean
  /** Full readings taken after completion until the findings had settled. */
  readings: number
  /** The settle window that applied (ms). */
  settleMs: number
}

/**
 * Waits for the scan of one image and returns its settled findings:
 * - basic (or unknown): StartImageScan when no scan exists (LimitExceededException = already scanned in 24 h);
 * - enhanced: never StartImageScan; ACTIVE counts as complete;
 * - PENDING/IN_PROGRESS (and no scan yet) wait; FAILED/UNSUPPORTED_IMAGE/… throw ScanStatusError;
 * - after the first complete reading, full readings repeat until the findings have stayed unchanged for the settle
 *   window (the window restarts whenever they change) and at least two readings agree: findings arrive late;
 * - basic: a COMPLETE scan older than maxScanAgeMs (by ECR's clock) is restarted and its successor awaited.
 * Throws an ActionError with the elapsed time and last status when the poller's deadline passes.
 */
export async function waitForScan(
  ecr: EcrSender,
  target: ScanTarget,
  options: WaitOptions
): Promise<ScanResult> {
  const { poller, log } = options
  let mode = options.mode
  let startedScan = false
  let lastStatus = 'NOT_STARTED'
  let lastDescription: string | undefined
  let previous: FindingsReading | undefined
  let previousFingerprint = ''
  let changedAt = 0
  let changes = 0
  let readings = 0
  /** Completion time of a basic scan we restarted for being older than max-scan-age. */
  let staleCompletedAt: number | undefined
  const wallNow = options.wallNow ?? (() => Date.now())
  const name = targetName(target)
  const settleFor = (m: ScanMode, status: string): number => {
    const effective = m === 'UNKNOWN' ? (status === 'ACTIVE' ? 'ENHANCED' : 'BASIC') : m
    return Math.max(0, (options.settleMs ?? ((x) => DEFAULT_SETTLE_MS[x]))(effective))
  }

  const timeout = (): ActionError => {
    const settling = previous !== undefined
    const settle = settleFor(mode, lastStatus)
    const stable = poller.clock.now() - changedAt
    const what = settling
      ? `the findings of ${name} to settle (status ${lastStatus}; ${previous?.findings.length ?? 0} findings in the last reading, unchanged for ${formatDuration(stable)} of the ${formatDuration(settle)} settle time${changes > 0 ? `, changed ${changes} time(s) since the first complete reading` : ''})`
      : `the ECR scan of ${name} (last status ${lastStatus}${lastDescription ? `: ${lastDescription.replace(/\.$/, '')}` : ''})`
    const hint = settling
      ? `Raise "timeout" so that it leaves room for "settle-time" (${formatDuration(settle)}) after the scan completes; findings that are still arriving are never trusted.`
      : mode === 'ENHANCED'
        ? 'Raise "timeout", and check in Amazon Inspector (Coverage → Container images) that this repository is covered and scanned.'
        : 'Raise "timeout"; basic scans usually finish within a few minutes.'
    return new ActionError(
      `Timed out after ${formatDuration(poller.elapsedMs())} waiting for ${what}`,
      hint
    )
  }

  for (;;) {
    poller.polls++
    let page: Page | undefined
    let status: string
    try {
      page = await describeFindingsPage(ecr, target)
      status = page.imageScanStatus?.status ?? 'UNKNOWN'
      lastDescription = page.imageScanStatus?.description
    } catch (error) {
      const code = awsErrorCode(error)
      if (code === 'ScanNotFoundException') {
        status = 'NO_SCAN'
        lastDescription = undefined
        if (mode !== 'ENHANCED' && !startedScan) {
          const started = await startScan(ecr, target, log)
          startedScan = started.started
          if (started.enhanced) mode = 'ENHANCED'
          if (started.status) status = started.status
          if (started.error)
            throw new ScanStatusError(name, started.error.status, started.error.description)
        }
      } else if (isTransientError(error)) {
        log(`  ${name}: transient error (${code ?? errorMessage(error)}), polling again`)
        status = lastStatus
      } else {
        throw describeAwsError(error, {
          action: 'ecr:DescribeImageScanFindings',
          resource: target.repositoryName
        })
      }
    }
    if (status !== lastStatus) poller.reset()
    lastStatus = status

    if ((SCAN_ERROR_STATUSES as readonly string[]).includes(status)) {
      throw new ScanStatusError(name, status, lastDescription)
    }
    let capMs = Infinity
    const completedAt = page?.imageScanFindings?.imageScanCompletedAt
    if (
      status === 'COMPLETE' &&
      mode !== 'ENHANCED' &&
      completedAt !== undefined &&
      staleCompletedAt !== undefined &&
      completedAt.getTime() <= staleCompletedAt
    ) {
      log(
        `  ${name}: still the old scan (completed ${completedAt.toISOString()}); waiting for the new one`
      )
      previous = undefined
      if (!(await poller.wait())) throw timeout()
      continue
    }
    if (
      status === 'COMPLETE' &&
      mode !== 'ENHANCED' &&
      options.maxScanAgeMs !== undefined &&
      completedAt !== undefined &&
      staleCompletedAt === undefined &&
      wallNow() - completedAt.getTime() > options.maxScanAgeMs
    ) {
      if (await restartStaleScan(ecr, target, completedAt, options.maxScanAgeMs, log)) {
        staleCompletedAt = completedAt.getTime()
        startedScan = true
        previous = undefined
        poller.reset()
        if (!(await poller.wait())) throw timeout()
        continue
      }
      // Enhanced scanning after all (scan on push reports COMPLETE): Inspector keeps it current.
      mode = 'ENHANCED'
    }
    if (DONE_STATUSES.has(status) && page) {
      const reading = await readAllFindings(ecr, target, page)
      readings++
      const now = poller.clock.now()
      const fingerprint = `${reading.status}|${findingsFingerprint(reading.findings)}`
      const settle = settleFor(mode, status)
      let note: string
      if (!previous) {
        changedAt = now
        note = `(settling: trusted once unchanged for ${formatDuration(settle)})`
      } else if (fingerprint !== previousFingerprint) {
        changedAt = now
        changes++
        poller.reset()
        note = `(changed: waiting for them to settle, ${formatDuration(settle)} from now)`
      } else {
        note =
          now - changedAt >= settle
            ? `(unchanged for ${formatDuration(now - changedAt)}: settled)`
            : `(unchanged for ${formatDuration(now - changedAt)} of ${formatDuration(settle)})`
      }
      log(
        `  ${name}: ${status}, ${reading.findings.length} finding(s) over ${reading.pages} page(s) after ${formatDuration(poller.elapsedMs())} ${note}`
      )
      if (previous && fingerprint === previousFingerprint && now - changedAt >= settle) {
        if (mode === 'UNKNOWN') mode = status === 'ACTIVE' ? 'ENHANCED' : 'BASIC'
        return {
          target,
          mode,
          status: reading.status,
          description: reading.description,
          findings: reading.findings,
          pages: reading.pages,
          completedAt: reading.completedAt,
          startedScan,
          readings,
          settleMs: settle
        }
      }
      previous = reading
      previousFingerprint = fingerprint
      // Poll again no later than the end of the settle window (and at least once more when it is 0).
      capMs = Math.max(1, changedAt + settle - now)
    } else {
      previous = undefined
      previousFingerprint = ''
      log(
        `  ${name}: ${status}${lastDescription ? ` (${lastDescription})` : ''} after ${formatDuration(poller.elapsedMs())}`
      )
    }
    if (!(await poller.wait(capMs))) throw timeout()
  }
}

/** Long durations as the "max-scan-age" input spells them: 168h. */
function formatHours(ms: number): string {
  return ms >= 3_600_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : formatDuration(ms)
}

/**
 * Restarts a basic scan that is older than max-scan-age (ECR allows one basic scan per image per 24 hours); false
 * when ECR says scanning is enhanced (StartImageScan disabled), where the age does not matter.
 */
async function restartStaleScan(
  ecr: EcrSender,
  target: ScanTarget,
  completedAt: Date,
  maxAgeMs: number,
  log: (message: string) => void
): Promise<boolean> {
  const name = targetName(target)
  try {
    await ecr.send(
      new (await loadEcr()).StartImageScanCommand({
        repositoryName: target.repositoryName,
        registryId: target.registryId,
        imageId: { imageDigest: target.digest }
      })
    )
    log(
      `  ${name}: the last basic scan completed ${completedAt.toISOString()}, older than "max-scan-age" (${formatHours(maxAgeMs)}): started a new scan`
    )
    return true
  } catch (error) {
    const code = awsErrorCode(error)
    if (code === 'ValidationException' && /disabled|enhanced/i.test(errorMessage(error))) {
      log(
        `  ${name}: StartImageScan is not available (${errorMessage(error)}): enhanced scanning keeps the findings current, so "max-scan-age" does not apply`
      )
      return false
    }
    if (code === 'LimitExceededException') {
      throw new ActionError(
        `The last basic scan of ${name} completed ${completedAt.toISOString()}, older than "max-scan-age" (${formatHours(maxAgeMs)}), and ECR refused a new scan (LimitExceededException: ECR allows one basic scan per image per 24 hours, and one was started within the last day)`,
        'Re-run the job once that scan has completed (or after 24 hours), or raise "max-scan-age" to trust the older findings.'
      )
    }
    throw describeAwsError(error, { action: 'ecr:StartImageScan', resource: target.repositoryName })
  }
}

interface StartOutcome {
  started: boolean
  enhanced?: boolean
  status?: string
  error?: { status: string; description: string }
}

async function startScan(
  ecr: EcrSender,
  target: ScanTarget,
  log: (message: string) => void
): Promise<StartOutcome> {
  const name = targetName(target)
  try {
    const out = await ecr.send(
      new (await loadEcr()).StartImageScanCommand({
        repositoryName: target.repositoryName,
        registryId: target.registryId,
        imageId: { imageDigest: target.digest }
      })
    )
    log(`  ${name}: no scan yet, started a basic scan (StartImageScan)`)
    return { started: true, status: out.imageScanStatus?.status }
  } catch (error) {
    const code = awsErrorCode(error)
    const message = errorMessage(error)
    if (code === 'LimitExceededException') {
      log(
        `  ${name}: ECR says it was already scanned in the last 24 hours (${message}); waiting for that scan`
      )
      return { started: false }
    }
    if (code === 'ValidationException' && /disabled|enhanced/i.test(message)) {
      log(
        `  ${name}: StartImageScan is not available (${message}): enhanced scanning applies; waiting for Inspector`
      )
      return { started: false, enhanced: true }
    }
    if (code === 'UnsupportedImageTypeException') {
      return { started: false, error: { status: 'UNSUPPORTED_IMAGE', description: message } }
    }
    throw describeAwsError(error, { action: 'ecr:StartImageScan', resource: target.repositoryName })
  }
}
