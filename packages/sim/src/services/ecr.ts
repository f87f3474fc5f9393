import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { wildcardRegExp } from '../core/iam.js'
import {
  AwsError,
  type Caller,
  type Clock,
  type RegistryView,
  type RequestContext,
  type ServiceModule
} from '../core/types.js'
import { INDEX_TYPES, sha256Digest, type BackendRegistry } from '../registry/backend.js'
import type { ProxyHooks } from '../registry/proxy.js'

type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' | 'UNDEFINED'
type ScanStatus =
  | 'IN_PROGRESS'
  | 'COMPLETE'
  | 'FAILED'
  | 'UNSUPPORTED_IMAGE'
  | 'ACTIVE'
  | 'PENDING'
  | 'SCAN_ELIGIBILITY_EXPIRED'
  | 'FINDINGS_UNAVAILABLE'

export interface FindingSeed {
  /** CVE id, e.g. CVE-2024-3094 */
  id: string
  severity: Severity
  package: string
  version: string
  fixedVersion?: string
  /** Enhanced only; default YES when fixedVersion is set, else NO. */
  fixAvailable?: 'YES' | 'NO' | 'PARTIAL'
  description?: string
  score?: number
  exploitAvailable?: 'YES' | 'NO'
  packageManager?: string
  /**
   * Enhanced only: simulated seconds after the scan turns ACTIVE before this finding is reported (default 0).
   * Amazon Inspector reports ACTIVE first and fills in findings seconds to minutes later.
   */
  atSeconds?: number
}

export interface ScanScenario {
  /** Force a status (FAILED, UNSUPPORTED_IMAGE, SCAN_ELIGIBILITY_EXPIRED, PENDING, IN_PROGRESS…). */
  status?: ScanStatus
  description?: string
  /** Basic: simulated seconds a scan stays IN_PROGRESS (default 10). */
  scanSeconds?: number
  findings?: FindingSeed[]
}

interface ScenarioAssignment {
  repository?: string
  tag?: string
  digest?: string
  scenario: string | ScanScenario
}

interface Repository {
  repositoryName: string
  repositoryArn: string
  registryId: string
  createdAt: Date
  imageTagMutability: string
  imageTagMutabilityExclusionFilters?: Array<{ filterType: string; filter: string }>
  imageScanningConfiguration: { scanOnPush: boolean }
  encryptionConfiguration: { encryptionType: string; kmsKey?: string }
  tags: Array<{ Key: string; Value: string }>
  lifecyclePolicyText?: string
  /** digest → push time (ms, simulated) of every manifest stored through the proxy or PutImage. */
  pushes: Map<string, number>
}

interface Scan {
  type: 'BASIC' | 'ENHANCED'
  startedAt: number
  polls: number
  /**
   * Basic only: the findings as first read after completion. A basic scan is a snapshot: later scenario changes (a
   * new CVE in the vulnerability database) show only in a new scan. Enhanced scanning is continuous (read live).
   */
  findings?: FindingSeed[]
}

interface ImageInfo {
  digest: string
  tags: string[]
  mediaType: string
  manifest: Record<string, unknown>
  raw: Buffer
  pushedAt: number
}

export const BUILTIN_SCENARIOS: Record<string, ScanScenario> = {
  clean: { findings: [] },
  vulnerable: {
    findings: [
      {
        id: 'CVE-2024-3094',
        severity: 'CRITICAL',
        package: 'xz-utils',
        version: '5.6.0-0.2',
        fixedVersion: '5.6.1+really5.4.5-1',
        score: 10
      },
      {
        id: 'CVE-2023-4911',
        severity: 'HIGH',
        package: 'glibc',
        version: '2.36-9',
        fixedVersion: '2.36-9+deb12u3',
        score: 7.8
      },
      {
        id: 'CVE-2023-38545',
        severity: 'HIGH',
        package: 'curl',
        version: '7.88.1-10',
        fixedVersion: '7.88.1-10+deb12u4',
        score: 9.8
      },
      {
        id: 'CVE-2023-5678',
        severity: 'MEDIUM',
        package: 'openssl',
        version: '3.0.11-1',
        score: 5.3
      },
      {
        id: 'CVE-2022-0563',
        severity: 'LOW',
        package: 'util-linux',
        version: '2.38.1-5',
        score: 5.5
      }
    ]
  },
  failed: { status: 'FAILED', description: 'The scan failed to complete.' },
  unsupported: {
    status: 'UNSUPPORTED_IMAGE',
    description:
      'UnsupportedImageError: The operating system and/or package manager are not supported.'
  },
  expired: {
    status: 'SCAN_ELIGIBILITY_EXPIRED',
    description: 'The image is no longer eligible for continuous scanning.'
  },
  pending: { status: 'PENDING', description: 'The image is pending a scan.' }
}

const NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'
const NAME_RE = new RegExp(`^${NAME_PATTERN}$`)
const TWELVE_HOURS = 12 * 3600 * 1000
/** Lifetime of a GetDownloadUrlForLayer URL (a presigned S3 URL; ECR does not document it, one hour here). */
const LAYER_URL_TTL = 3600 * 1000
const DAY = 24 * 3600 * 1000
const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED']

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', message)
}

function idText(id: { imageDigest?: string; imageTag?: string }): string {
  return `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`
}

function paginate<T>(
  items: T[],
  input: Record<string, unknown>,
  max = 1000,
  defaultSize = 100
): { page: T[]; nextToken?: string } {
  const maxResults = input['maxResults']
  if (
    maxResults !== undefined &&
    (typeof maxResults !== 'number' || maxResults < 1 || maxResults > max)
  ) {
    throw invalid(
      `Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be between 1 and ${max}'`
    )
  }
  let offset = 0
  const token = str(input['nextToken'])
  if (token !== undefined) {
    const parsed = /^o(\d+)\.[0-9a-f]{8}$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
    if (!parsed)
      throw invalid(
        "Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is invalid or expired'"
      )
    offset = Number(parsed[1])
  }
  const size = typeof maxResults === 'number' ? maxResults : defaultSize
  const page = items.slice(offset, offset + size)
  const next =
    offset + size < items.length
      ? Buffer.from(`o${offset + size}.${randomBytes(4).toString('hex')}`).toString('base64url')
      : undefined
  return { page, nextToken: next }
}

export interface EcrOptions {
  clock: Clock
  accountId: string
  region: string
  /** The registry behind the proxy; undefined when the stack runs without one. */
  backend?: BackendRegistry
  /** `127.0.0.1:<port>` of the proxy (resolved lazily: the proxy starts after the model). */
  registryHost: () => string
  /** KMS keys and aliases: a repository stores the ARN of the key it was created with. */
  kms?: { resolve(keyId: string): { arn: string } | undefined }
  /** Base URL of the presigned layer downloads GetDownloadUrlForLayer hands out (served by {@link EcrService.serveLayer}). */
  layerUrlBase?: () => string
}

/** The path prefix of presigned layer URLs (stands in for ECR's S3 layer bucket). */
export const LAYER_URL_PREFIX = '/ecr-layers/'

export interface EcrService extends ServiceModule {
  hooks: ProxyHooks
  registryView: RegistryView
  /** Every registry password and authorization token GetAuthorizationToken issued (for leak checks in tests). */
  issuedSecrets(): string[]
  /** Serves `<layerUrlBase>/ecr-layers/<token>`: the blob, unauthenticated, until the URL expires (as a presigned S3 URL). */
  serveLayer: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>
}

export function createEcrService(options: EcrOptions): EcrService {
  const { clock, accountId, region, backend } = options
  const repos = new Map<string, Repository>()
  const tokens = new Map<string, { caller: Caller; expiresAt: number }>()
  const layerUrls = new Map<string, { repository: string; digest: string; expiresAt: number }>()
  const scans = new Map<string, Scan>()
  const manualScans = new Map<string, number>()
  const scenarios = new Map<string, ScanScenario>(Object.entries(BUILTIN_SCENARIOS))
  const assignments: ScenarioAssignment[] = []
  let scanning: {
    scanType: string
    rules: Array<{
      scanFrequency: string
      repositoryFilters: Array<{ filter: string; filterType: string }>
    }>
  } = {
    scanType: 'BASIC',
    rules: []
  }

  const arnOf = (name: string): string => `arn:aws:ecr:${region}:${accountId}:repository/${name}`

  /** A repository by ARN (ListTagsForResource, TagResource, UntagResource). */
  function byArn(value: unknown): Repository {
    const arn = str(value) ?? ''
    const r = [...repos.values()].find((x) => x.repositoryArn === arn)
    if (!r)
      throw invalid(
        `Invalid parameter at 'resourceArn' failed to satisfy constraint: 'the resource ${arn} does not exist'`
      )
    return r
  }

  function repo(name: unknown): Repository {
    const n = str(name)
    if (!n)
      throw invalid(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"
      )
    const r = repos.get(n)
    if (!r)
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${n}' does not exist in the registry with id '${accountId}'`
      )
    return r
  }

  function describeRepo(r: Repository): Record<string, unknown> {
    return {
      repositoryArn: r.repositoryArn,
      registryId: r.registryId,
      repositoryName: r.repositoryName,
      repositoryUri: `${options.registryHost()}/${r.repositoryName}`,
      createdAt: r.createdAt,
      imageTagMutability: r.imageTagMutability,
      imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters,
      imageScanningConfiguration: r.imageScanningConfiguration,
      encryptionConfiguration: r.encryptionConfiguration
    }
  }

  function tagIsImmutable(r: Repository, tag: string): boolean {
    const excluded = (r.imageTagMutabilityExclusionFilters ?? []).some((f) =>
      wildcardRegExp(f.filter).test(tag)
    )
    if (r.imageTagMutability === 'IMMUTABLE') return true
    if (r.imageTagMutability === 'IMMUTABLE_WITH_EXCLUSION') return !excluded
    if (r.imageTagMutability === 'MUTABLE_WITH_EXCLUSION') return excluded
    return false
  }

  function immutableMessage(r: Repository, tag: string): string {
    return `The image tag '${tag}' already exists in the '${r.repositoryName}' repository and cannot be overwritten because the repository is immutable.`
  }

  // ---- images, read from the real registry -------------------------------------------------------

  async function images(r: Repository): Promise<ImageInfo[]> {
    if (!backend) return []
    const byDigest = new Map<string, ImageInfo>()
    const load = async (digest: string): Promise<ImageInfo | undefined> => {
      const existing = byDigest.get(digest)
      if (existing) return existing
      const m = await backend.getManifest(r.repositoryName, digest)
      if (!m) return undefined
      let manifest: Record<string, unknown> = {}
      try {
        manifest = JSON.parse(m.body.toString('utf8')) as Record<string, unknown>
      } catch {
        // keep {}
      }
      const info: ImageInfo = {
        digest,
        tags: [],
        mediaType: str(manifest['mediaType']) ?? m.mediaType,
        manifest,
        raw: m.body,
        pushedAt: r.pushes.get(digest) ?? clock.now()
      }
      byDigest.set(digest, info)
      return info
    }
    for (const tag of await backend.tags(r.repositoryName)) {
      const head = await backend.getManifest(r.repositoryName, tag, 'HEAD')
      if (!head) continue
      const info = await load(head.digest)
      info?.tags.push(tag)
    }
    for (const digest of r.pushes.keys()) await load(digest)
    return [...byDigest.values()].sort(
      (a, b) => a.pushedAt - b.pushedAt || a.digest.localeCompare(b.digest)
    )
  }

  async function findImage(r: Repository, id: unknown): Promise<ImageInfo> {
    const imageId = (id ?? {}) as { imageDigest?: string; imageTag?: string }
    if (!imageId.imageDigest && !imageId.imageTag)
      throw invalid(
        "Invalid parameter at 'imageId' failed to satisfy constraint: 'imageDigest or imageTag must be specified'"
      )
    const all = await images(r)
    const found = all.find(
      (i) =>
        (imageId.imageDigest === undefined || i.digest === imageId.imageDigest) &&
        (imageId.imageTag === undefined || i.tags.includes(imageId.imageTag))
    )
    if (!found) {
      throw new AwsError(
        'ImageNotFoundException',
        `The image with imageId ${idText(imageId)} does not exist within the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`
      )
    }
    return found
  }

  function sizeOf(info: ImageInfo): number {
    const layers = info.manifest['layers'] as Array<{ size?: number }> | undefined
    if (layers) return layers.reduce((s, l) => s + (l.size ?? 0), 0)
    const children = info.manifest['manifests'] as Array<{ size?: number }> | undefined
    return (children ?? []).reduce((s, l) => s + (l.size ?? 0), 0)
  }

  async function labelsOf(repository: string, info: ImageInfo): Promise<Record<string, string>> {
    if (!backend) return {}
    let manifest = info.manifest
    if (INDEX_TYPES.has(info.mediaType)) {
      const children =
        (manifest['manifests'] as
          Array<{ digest: string; platform?: { os?: string } }> | undefined) ?? []
      const child = children.find((c) => c.platform?.os !== 'unknown') ?? children[0]
      if (!child) return {}
      const m = await backend.getManifest(repository, child.digest)
      if (!m) return {}
      manifest = JSON.parse(m.body.toString('utf8')) as Record<string, unknown>
    }
    const config = manifest['config'] as { digest?: string } | undefined
    if (!config?.digest) return {}
    const blob = await backend.getBlob(repository, config.digest)
    if (!blob) return {}
    try {
      const parsed = JSON.parse(blob.toString('utf8')) as {
        config?: { Labels?: Record<string, string> | null }
      }
      return parsed.config?.Labels ?? {}
    } catch {
      return {}
    }
  }

  // ---- scans -------------------------------------------------------------------------------------

  function enhancedFor(repository: string): boolean {
    if (scanning.scanType !== 'ENHANCED') return false
    if (scanning.rules.length === 0) return true
    return scanning.rules.some((rule) =>
      rule.repositoryFilters.some((f) => wildcardRegExp(f.filter).test(repository))
    )
  }

  async function scenarioFor(repository: string, info: ImageInfo): Promise<ScanScenario> {
    const pick = (s: string | ScanScenario): ScanScenario => {
      if (typeof s !== 'string') return s
      const named = scenarios.get(s)
      if (!named) throw new AwsError('ValidationException', `unknown scan scenario '${s}'`)
      return named
    }
    const byDigest = assignments.findLast(
      (a) => a.digest === info.digest && (a.repository === undefined || a.repository === repository)
    )
    if (byDigest) return pick(byDigest.scenario)
    const byTag = assignments.findLast(
      (a) => a.repository === repository && a.tag !== undefined && info.tags.includes(a.tag)
    )
    if (byTag) return pick(byTag.scenario)
    const byRepo = assignments.findLast(
      (a) => a.repository === repository && a.tag === undefined && a.digest === undefined
    )
    if (byRepo) return pick(byRepo.scenario)
    const label = (await labelsOf(repository, info))['shipline.sim.scan']
    if (label && scenarios.has(label)) return pick(label)
    return BUILTIN_SCENARIOS['clean'] as ScanScenario
  }

  const scanKey = (repository: string, digest: string): string => `${repository}@${digest}`

  function startScan(repository: string, digest: string, type: Scan['type']): void {
    scans.set(scanKey(repository, digest), { type, startedAt: clock.now(), polls: 0 })
  }

  interface ScanView {
    status: ScanStatus
    description: string
    completedAt?: number
    findings: FindingSeed[]
    type: Scan['type']
  }

  async function scanView(
    r: Repository,
    info: ImageInfo,
    poll: boolean
  ): Promise<ScanView | undefined> {
    const key = scanKey(r.repositoryName, info.digest)
    let scan = scans.get(key)
    if (!scan && enhancedFor(r.repositoryName)) {
      scan = { type: 'ENHANCED', startedAt: info.pushedAt, polls: 0 }
      scans.set(key, scan)
    }
    if (!scan) return undefined
    if (poll) scan.polls++
    const scenario = await scenarioFor(r.repositoryName, info)
    const type = scan.type
    if (INDEX_TYPES.has(info.mediaType)) {
      return {
        status: 'UNSUPPORTED_IMAGE',
        description:
          'UnsupportedImageError: The operating system and/or package manager are not supported.',
        findings: [],
        type
      }
    }
    if (scenario.status) {
      const s = scenario.status
      return {
        status: s,
        description: scenario.description ?? s,
        findings: s === 'COMPLETE' || s === 'ACTIVE' ? (scenario.findings ?? []) : [],
        type
      }
    }
    const all = scenario.findings ?? []
    if (type === 'ENHANCED') {
      // ACTIVE from the start; each finding appears atSeconds of simulated time later (not per poll).
      const elapsed = clock.now() - scan.startedAt
      const visible = all.filter((f) => elapsed >= (f.atSeconds ?? 0) * 1000)
      return {
        status: 'ACTIVE',
        description: 'Continuous scan is selected for image.',
        completedAt: scan.startedAt,
        findings: visible,
        type
      }
    }
    const doneAt = scan.startedAt + (scenario.scanSeconds ?? 10) * 1000
    if (clock.now() < doneAt)
      return { status: 'IN_PROGRESS', description: 'The scan is in progress.', findings: [], type }
    // A basic scan is a snapshot: fixed the first time its completed results are read.
    scan.findings ??= all
    return {
      status: 'COMPLETE',
      description: 'The scan was completed successfully.',
      completedAt: doneAt,
      findings: scan.findings,
      type
    }
  }

  function severityCounts(findings: FindingSeed[]): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1
    return counts
  }

  function basicFinding(f: FindingSeed): Record<string, unknown> {
    return {
      name: f.id,
      description: f.description ?? `${f.package} ${f.version} is affected by ${f.id}.`,
      uri: `https://security-tracker.debian.org/tracker/${f.id}`,
      severity: f.severity,
      attributes: [
        { key: 'package_version', value: f.version },
        { key: 'package_name', value: f.package },
        { key: 'CVSS2_VECTOR', value: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' },
        { key: 'CVSS2_SCORE', value: String(f.score ?? 5) }
      ]
    }
  }

  function enhancedFinding(
    r: Repository,
    info: ImageInfo,
    f: FindingSeed,
    observedAt: Date
  ): Record<string, unknown> {
    const score = f.score ?? 5
    return {
      awsAccountId: accountId,
      description: f.description ?? `${f.package} ${f.version} is affected by ${f.id}.`,
      findingArn: `arn:aws:inspector2:${region}:${accountId}:finding/${sha256Digest(`${info.digest}/${f.id}/${f.package}`).slice(7, 39)}`,
      firstObservedAt: observedAt,
      lastObservedAt: observedAt,
      updatedAt: observedAt,
      packageVulnerabilityDetails: {
        cvss: [
          {
            baseScore: score,
            scoringVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
            source: 'NVD',
            version: '3.1'
          }
        ],
        referenceUrls: [`https://nvd.nist.gov/vuln/detail/${f.id}`],
        relatedVulnerabilities: [],
        source: 'NVD',
        sourceUrl: `https://nvd.nist.gov/vuln/detail/${f.id}`,
        vendorSeverity: f.severity,
        vulnerabilityId: f.id,
        vulnerablePackages: [
          {
            name: f.package,
            version: f.version,
            packageManager: f.packageManager ?? 'OS',
            arch: 'X86_64',
            epoch: 0,
            release: '',
            sourceLayerHash: ((info.manifest['layers'] as Array<{ digest: string }> | undefined) ??
              [])[0]?.digest,
            fixedInVersion: f.fixedVersion ?? 'NotAvailable'
          }
        ]
      },
      remediation: {
        recommendation: {
          text: f.fixedVersion ? `Upgrade ${f.package} to ${f.fixedVersion}.` : 'None Provided',
          url: `https://nvd.nist.gov/vuln/detail/${f.id}`
        }
      },
      resources: [
        {
          id: `arn:aws:ecr:${region}:${accountId}:repository/${r.repositoryName}/${info.digest}`,
          type: 'AWS_ECR_CONTAINER_IMAGE',
          details: {
            awsEcrContainerImage: {
              architecture: 'amd64',
              imageHash: info.digest,
              imageTags: info.tags,
              platform: 'LINUX',
              pushedAt: new Date(info.pushedAt),
              registry: accountId,
              repositoryName: r.repositoryName
            }
          },
          tags: {}
        }
      ],
      score,
      scoreDetails: {
        cvss: {
          score,
          scoreSource: 'NVD',
          scoringVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
          version: '3.1',
          adjustments: []
        }
      },
      severity: f.severity,
      status: 'ACTIVE',
      title: `${f.id} - ${f.package}`,
      type: 'PACKAGE_VULNERABILITY',
      exploitAvailable: f.exploitAvailable ?? 'NO',
      fixAvailable: f.fixAvailable ?? (f.fixedVersion ? 'YES' : 'NO')
    }
  }

  async function onManifestStored(
    repository: string,
    _reference: string,
    digest: string
  ): Promise<void> {
    const r = repos.get(repository)
    if (!r) return
    if (!r.pushes.has(digest)) r.pushes.set(digest, clock.now())
    const key = scanKey(repository, digest)
    if (enhancedFor(repository)) {
      if (!scans.has(key)) scans.set(key, { type: 'ENHANCED', startedAt: clock.now(), polls: 0 })
    } else if (
      r.imageScanningConfiguration.scanOnPush ||
      scanning.rules.some(
        (rule) =>
          rule.scanFrequency === 'SCAN_ON_PUSH' &&
          rule.repositoryFilters.some((f) => wildcardRegExp(f.filter).test(repository))
      )
    ) {
      startScan(repository, digest, 'BASIC')
    }
    await Promise.resolve()
  }

  async function checkTagWrite(
    repository: string,
    tag: string,
    digest: string
  ): Promise<string | undefined> {
    const r = repos.get(repository)
    if (!r || !backend || !tagIsImmutable(r, tag)) return undefined
    const current = await backend.getManifest(repository, tag, 'HEAD')
    if (current && current.digest !== digest) return immutableMessage(r, tag)
    return undefined
  }

  // ---- lifecycle policies ------------------------------------------------------------------------

  interface LifecycleSelection {
    tagStatus: 'tagged' | 'untagged' | 'any'
    tagPrefixList?: string[]
    tagPatternList?: string[]
    countType: 'imageCountMoreThan' | 'sinceImagePushed'
    countNumber: number
  }

  function selectsTags(selection: LifecycleSelection, tags: string[]): boolean {
    if (selection.tagStatus === 'any') return true
    if (selection.tagStatus === 'untagged') return tags.length === 0
    if (tags.length === 0) return false
    const prefixes = selection.tagPrefixList ?? []
    const patterns = (selection.tagPatternList ?? []).map((p) => wildcardRegExp(p))
    return (
      prefixes.every((p) => tags.some((t) => t.startsWith(p))) &&
      patterns.every((re) => tags.some((t) => re.test(t)))
    )
  }

  /**
   * The images a repository's lifecycle policy expires now, per the ECR user guide: rules apply from the lowest
   * rulePriority up; an image whose tags a rule selects belongs to that rule (expired or kept) and no later rule
   * can expire it; imageCountMoreThan keeps the N most recently pushed of the rule's images, sinceImagePushed
   * expires those pushed more than N days ago.
   */
  async function lifecycleExpired(
    r: Repository
  ): Promise<Array<{ info: ImageInfo; rulePriority: number }>> {
    if (!r.lifecyclePolicyText) return []
    const rules = (
      JSON.parse(r.lifecyclePolicyText) as {
        rules: Array<{ rulePriority: number; selection: LifecycleSelection }>
      }
    ).rules.sort((a, b) => a.rulePriority - b.rulePriority)
    const all = await images(r)
    const claimed = new Set<string>()
    const expired: Array<{ info: ImageInfo; rulePriority: number }> = []
    for (const rule of rules) {
      const mine = all.filter((i) => !claimed.has(i.digest) && selectsTags(rule.selection, i.tags))
      for (const i of mine) claimed.add(i.digest)
      const newestFirst = [...mine].sort((a, b) => b.pushedAt - a.pushedAt)
      const out =
        rule.selection.countType === 'imageCountMoreThan'
          ? newestFirst.slice(rule.selection.countNumber)
          : newestFirst.filter((i) => clock.now() - i.pushedAt > rule.selection.countNumber * DAY)
      for (const info of out) expired.push({ info, rulePriority: rule.rulePriority })
    }
    return expired
  }

  // ---- handlers ----------------------------------------------------------------------------------

  const handlers: ServiceModule['handlers'] = {
    GetAuthorizationToken: (_input, ctx: RequestContext) => {
      if (!ctx.caller)
        throw new AwsError(
          'MissingAuthenticationTokenException',
          'Request is missing Authentication Token'
        )
      const password = randomBytes(72).toString('base64')
      const expiresAt = clock.now() + TWELVE_HOURS
      tokens.set(password, { caller: ctx.caller, expiresAt })
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: new Date(expiresAt),
            proxyEndpoint: `http://${options.registryHost()}`
          }
        ]
      }
    },

    CreateRepository: (input) => {
      const name = str(input['repositoryName'])
      if (!name || name.length < 2 || name.length > 256 || !NAME_RE.test(name)) {
        throw invalid(
          `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${NAME_PATTERN}''`
        )
      }
      if (repos.has(name))
        throw new AwsError(
          'RepositoryAlreadyExistsException',
          `The repository with name '${name}' already exists in the registry with id '${accountId}'`
        )
      const mutability = str(input['imageTagMutability']) ?? 'MUTABLE'
      if (
        !['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'].includes(
          mutability
        )
      ) {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value '${mutability}' at 'imageTagMutability' failed to satisfy constraint: Member must satisfy enum value set: [IMMUTABLE, MUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]`
        )
      }
      const enc = (input['encryptionConfiguration'] ?? { encryptionType: 'AES256' }) as {
        encryptionType?: string
        kmsKey?: string
      }
      if (!['AES256', 'KMS', 'KMS_DSSE'].includes(enc.encryptionType ?? '')) {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value '${String(enc.encryptionType)}' at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [KMS_DSSE, KMS, AES256]`
        )
      }
      if (enc.encryptionType === 'AES256' && enc.kmsKey)
        throw invalid(
          "Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: 'kmsKey can only be specified when encryptionType is KMS'"
        )
      let kmsKey: string | undefined
      if (enc.encryptionType !== 'AES256') {
        // ECR reports the key ARN, whichever form (key ID, key ARN, alias name or alias ARN) named the key.
        const named = enc.kmsKey ?? 'alias/aws/ecr'
        const key = options.kms?.resolve(named)
        if (!key && (options.kms || named.startsWith('alias/') || named.includes(':alias/')))
          throw new AwsError(
            'KmsException',
            `KMS key ${named} is not usable: NotFoundException (the key or alias does not exist)`,
            400,
            { kmsError: 'NotFoundException' }
          )
        kmsKey =
          key?.arn ??
          (named.startsWith('arn:') ? named : `arn:aws:kms:${region}:${accountId}:key/${named}`)
      }
      const tags = (input['tags'] as Array<{ Key: string; Value: string }> | undefined) ?? []
      if (tags.length > 50)
        throw new AwsError(
          'TooManyTagsException',
          'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.'
        )
      const r: Repository = {
        repositoryName: name,
        repositoryArn: arnOf(name),
        registryId: accountId,
        createdAt: new Date(clock.now()),
        imageTagMutability: mutability,
        imageTagMutabilityExclusionFilters: input[
          'imageTagMutabilityExclusionFilters'
        ] as Repository['imageTagMutabilityExclusionFilters'],
        imageScanningConfiguration: {
          scanOnPush:
            (input['imageScanningConfiguration'] as { scanOnPush?: boolean } | undefined)
              ?.scanOnPush ?? false
        },
        encryptionConfiguration:
          enc.encryptionType === 'AES256'
            ? { encryptionType: 'AES256' }
            : { encryptionType: enc.encryptionType as string, kmsKey },
        tags,
        pushes: new Map()
      }
      repos.set(name, r)
      return { repository: describeRepo(r) }
    },

    DescribeRepositories: (input) => {
      const names = input['repositoryNames'] as string[] | undefined
      let list: Repository[]
      if (names) {
        if (input['maxResults'] !== undefined || input['nextToken'] !== undefined) {
          throw invalid(
            'Invalid parameter: maxResults and nextToken cannot be used together with repositoryNames'
          )
        }
        list = names.map((n) => repo(n))
      } else {
        list = [...repos.values()].sort((a, b) => a.repositoryName.localeCompare(b.repositoryName))
      }
      const { page, nextToken } = paginate(list, input)
      return { repositories: page.map(describeRepo), nextToken }
    },

    DeleteRepository: async (input) => {
      const r = repo(input['repositoryName'])
      const all = await images(r)
      if (all.length > 0 && input['force'] !== true) {
        throw new AwsError(
          'RepositoryNotEmptyException',
          `The repository with name '${r.repositoryName}' in registry with id '${accountId}' cannot be deleted because it still contains images`
        )
      }
      for (const i of all) await backend?.deleteManifest(r.repositoryName, i.digest)
      repos.delete(r.repositoryName)
      for (const key of [...scans.keys()])
        if (key.startsWith(`${r.repositoryName}@`)) scans.delete(key)
      return { repository: describeRepo(r) }
    },

    PutLifecyclePolicy: (input) => {
      const r = repo(input['repositoryName'])
      const text = str(input['lifecyclePolicyText'])
      if (!text || text.length < 100 || text.length > 30720) {
        throw new AwsError(
          'ValidationException',
          "1 validation error detected: Value at 'lifecyclePolicyText' failed to satisfy constraint: Member must have length between 100 and 30720"
        )
      }
      const fail = (why: string): AwsError =>
        invalid(
          `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${why}'`
        )
      let policy: { rules?: unknown }
      try {
        policy = JSON.parse(text) as { rules?: unknown }
      } catch {
        throw fail('Could not parse the policy as JSON')
      }
      if (!Array.isArray(policy.rules) || policy.rules.length === 0)
        throw fail('object has missing required properties (["rules"])')
      const priorities = new Set<number>()
      for (const rule of policy.rules as Array<Record<string, unknown>>) {
        const p = rule['rulePriority']
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 1)
          throw fail('rulePriority must be a positive integer')
        if (priorities.has(p)) throw fail(`rulePriority ${p} is used more than once`)
        priorities.add(p)
        const sel = rule['selection'] as Record<string, unknown> | undefined
        if (!sel) throw fail('object has missing required properties (["selection"])')
        if (!['tagged', 'untagged', 'any'].includes(String(sel['tagStatus'])))
          throw fail(
            `instance value (${JSON.stringify(sel['tagStatus'])}) not found in enum (possible values: ["tagged","untagged","any"])`
          )
        if (sel['tagStatus'] === 'tagged' && !sel['tagPrefixList'] && !sel['tagPatternList'])
          throw fail('tagPrefixList or tagPatternList is required when tagStatus is tagged')
        if (!['imageCountMoreThan', 'sinceImagePushed'].includes(String(sel['countType'])))
          throw fail(
            `instance value (${JSON.stringify(sel['countType'])}) not found in enum (possible values: ["imageCountMoreThan","sinceImagePushed"])`
          )
        if (typeof sel['countNumber'] !== 'number' || sel['countNumber'] < 1)
          throw fail('countNumber must be a positive integer')
        if (sel['countType'] === 'sinceImagePushed' && sel['countUnit'] !== 'days')
          throw fail('countUnit must be "days" when countType is sinceImagePushed')
        const action = rule['action'] as Record<string, unknown> | undefined
        if (action?.['type'] !== 'expire') throw fail('action.type must be "expire"')
      }
      const rules = policy.rules as Array<{
        rulePriority: number
        selection: { tagStatus: string }
      }>
      const anyRules = rules.filter((rule) => rule.selection.tagStatus === 'any')
      if (anyRules.length > 1) throw fail("only one rule may have tagStatus 'any'")
      const highest = Math.max(...rules.map((rule) => rule.rulePriority))
      if (anyRules[0] && anyRules[0].rulePriority !== highest)
        throw fail("a rule with tagStatus 'any' must have the highest rulePriority")
      r.lifecyclePolicyText = text
      return { registryId: accountId, repositoryName: r.repositoryName, lifecyclePolicyText: text }
    },

    GetLifecyclePolicy: (input) => {
      const r = repo(input['repositoryName'])
      if (!r.lifecyclePolicyText) {
        throw new AwsError(
          'LifecyclePolicyNotFoundException',
          `Lifecycle policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`
        )
      }
      return {
        registryId: accountId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: r.lifecyclePolicyText,
        lastEvaluatedAt: new Date(clock.now())
      }
    },

    PutImageScanningConfiguration: (input) => {
      const r = repo(input['repositoryName'])
      const cfg = input['imageScanningConfiguration'] as { scanOnPush?: unknown } | undefined
      if (!cfg || typeof cfg.scanOnPush !== 'boolean')
        throw invalid(
          "Invalid parameter at 'imageScanningConfiguration' failed to satisfy constraint: 'scanOnPush must be specified'"
        )
      r.imageScanningConfiguration = { scanOnPush: cfg.scanOnPush }
      return {
        registryId: accountId,
        repositoryName: r.repositoryName,
        imageScanningConfiguration: r.imageScanningConfiguration
      }
    },

    PutImageTagMutability: (input) => {
      const r = repo(input['repositoryName'])
      const m = str(input['imageTagMutability'])
      if (
        !m ||
        !['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'].includes(m)
      ) {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value '${String(m)}' at 'imageTagMutability' failed to satisfy constraint: Member must satisfy enum value set: [IMMUTABLE, MUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]`
        )
      }
      r.imageTagMutability = m
      r.imageTagMutabilityExclusionFilters = input[
        'imageTagMutabilityExclusionFilters'
      ] as Repository['imageTagMutabilityExclusionFilters']
      return {
        registryId: accountId,
        repositoryName: r.repositoryName,
        imageTagMutability: m,
        imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters
      }
    },

    GetRegistryScanningConfiguration: () => ({
      registryId: accountId,
      scanningConfiguration: scanning
    }),

    PutRegistryScanningConfiguration: (input) => {
      const scanType = str(input['scanType']) ?? 'BASIC'
      if (!['BASIC', 'ENHANCED'].includes(scanType)) {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value '${scanType}' at 'scanType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, ENHANCED]`
        )
      }
      const rules = (input['rules'] as typeof scanning.rules | undefined) ?? []
      for (const rule of rules) {
        const allowed =
          scanType === 'BASIC' ? ['SCAN_ON_PUSH', 'MANUAL'] : ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN']
        if (!allowed.includes(rule.scanFrequency))
          throw invalid(
            `Invalid parameter at 'scanFrequency' failed to satisfy constraint: '${rule.scanFrequency} is not supported for ${scanType} scanning'`
          )
        if (!Array.isArray(rule.repositoryFilters) || rule.repositoryFilters.length === 0)
          throw invalid(
            "Invalid parameter at 'repositoryFilters' failed to satisfy constraint: 'must contain at least 1 filter'"
          )
      }
      scanning = { scanType, rules }
      return {
        registryScanningConfiguration: { registryId: accountId, scanningConfiguration: scanning }
      }
    },

    DescribeImages: async (input) => {
      const r = repo(input['repositoryName'])
      const ids = input['imageIds'] as
        Array<{ imageDigest?: string; imageTag?: string }> | undefined
      let list: ImageInfo[]
      if (ids) {
        if (input['maxResults'] !== undefined || input['nextToken'] !== undefined) {
          throw invalid(
            'Invalid parameter: maxResults and nextToken cannot be used together with imageIds'
          )
        }
        list = []
        for (const id of ids) list.push(await findImage(r, id))
      } else {
        list = await images(r)
        const tagStatus =
          (input['filter'] as { tagStatus?: string } | undefined)?.tagStatus ?? 'ANY'
        if (tagStatus === 'TAGGED') list = list.filter((i) => i.tags.length > 0)
        if (tagStatus === 'UNTAGGED') list = list.filter((i) => i.tags.length === 0)
      }
      const { page, nextToken } = paginate(list, input)
      const details = []
      for (const info of page) {
        const scan = await scanView(r, info, false)
        details.push({
          registryId: accountId,
          repositoryName: r.repositoryName,
          imageDigest: info.digest,
          imageTags: info.tags.length ? [...info.tags].sort() : undefined,
          imageSizeInBytes: sizeOf(info),
          imagePushedAt: new Date(info.pushedAt),
          imageManifestMediaType: info.mediaType,
          artifactMediaType: (info.manifest['config'] as { mediaType?: string } | undefined)
            ?.mediaType,
          imageScanStatus: scan
            ? { status: scan.status, description: scan.description }
            : undefined,
          imageScanFindingsSummary:
            scan && (scan.status === 'COMPLETE' || scan.status === 'ACTIVE')
              ? {
                  imageScanCompletedAt:
                    scan.completedAt === undefined ? undefined : new Date(scan.completedAt),
                  vulnerabilitySourceUpdatedAt: new Date(clock.now() - DAY),
                  findingSeverityCounts: severityCounts(scan.findings)
                }
              : undefined
        })
      }
      return { imageDetails: details, nextToken }
    },

    BatchGetImage: async (input) => {
      const r = repo(input['repositoryName'])
      const ids =
        (input['imageIds'] as Array<{ imageDigest?: string; imageTag?: string }> | undefined) ?? []
      if (ids.length === 0 || ids.length > 100)
        throw invalid(
          "Invalid parameter at 'imageIds' failed to satisfy constraint: 'must contain between 1 and 100 items'"
        )
      const accepted = input['acceptedMediaTypes'] as string[] | undefined
      const all = await images(r)
      const result: unknown[] = []
      const failures: unknown[] = []
      for (const id of ids) {
        const byDigest = id.imageDigest ? all.find((i) => i.digest === id.imageDigest) : undefined
        const byTag = id.imageTag
          ? all.find((i) => i.tags.includes(id.imageTag as string))
          : undefined
        if (id.imageDigest && id.imageTag && byDigest && byTag && byDigest !== byTag) {
          failures.push({
            imageId: id,
            failureCode: 'ImageTagDoesNotMatchDigest',
            failureReason: 'Invalid image tag for image digest'
          })
          continue
        }
        const info = byDigest ?? byTag
        if (!info || (id.imageDigest && !byDigest)) {
          failures.push({
            imageId: id,
            failureCode: 'ImageNotFound',
            failureReason: 'Requested image not found'
          })
          continue
        }
        if (accepted && !accepted.includes(info.mediaType)) {
          failures.push({
            imageId: id,
            failureCode: 'UnsupportedImageType',
            failureReason: `The image manifest media type ${info.mediaType} is not in acceptedMediaTypes`
          })
          continue
        }
        result.push({
          registryId: accountId,
          repositoryName: r.repositoryName,
          imageId: { imageDigest: info.digest, imageTag: id.imageTag },
          imageManifest: info.raw.toString('utf8'),
          imageManifestMediaType: info.mediaType
        })
      }
      return { images: result, failures }
    },

    GetDownloadUrlForLayer: async (input) => {
      const r = repo(input['repositoryName'])
      const layerDigest = str(input['layerDigest'])
      if (!layerDigest)
        throw invalid(
          "Invalid parameter at 'layerDigest' failed to satisfy constraint: 'must not be null'"
        )
      if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(layerDigest))
        throw invalid(
          `Invalid parameter at 'layerDigest' failed to satisfy constraint: 'must match the digest pattern'`
        )
      const blob = backend ? await backend.getBlob(r.repositoryName, layerDigest) : undefined
      if (!blob)
        throw new AwsError(
          'LayersNotFoundException',
          `The specified layers could not be found, or the specified layer is not valid for this repository: '${layerDigest}' in the repository with name '${r.repositoryName}'`
        )
      const token = randomBytes(24).toString('hex')
      layerUrls.set(token, {
        repository: r.repositoryName,
        digest: layerDigest,
        expiresAt: clock.now() + LAYER_URL_TTL
      })
      const base = options.layerUrlBase?.() ?? ''
      return { downloadUrl: `${base}${LAYER_URL_PREFIX}${token}`, layerDigest }
    },

    PutImage: async (input) => {
      const r = repo(input['repositoryName'])
      if (!backend)
        throw new AwsError('ServerException', 'the simulator was started without a registry', 500)
      const manifestText = str(input['imageManifest'])
      if (!manifestText)
        throw invalid(
          "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'must not be null'"
        )
      const body = Buffer.from(manifestText, 'utf8')
      const digest = sha256Digest(body)
      const tag = str(input['imageTag'])
      const givenDigest = str(input['imageDigest'])
      if (givenDigest && givenDigest !== digest) {
        throw new AwsError(
          'ImageDigestDoesNotMatchException',
          `The specified image digest '${givenDigest}' does not match the digest '${digest}' of the image manifest`
        )
      }
      let parsed: Record<string, unknown>
      try {
        parsed = JSON.parse(manifestText) as Record<string, unknown>
      } catch {
        throw invalid(
          "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        )
      }
      const mediaType =
        str(input['imageManifestMediaType']) ??
        str(parsed['mediaType']) ??
        'application/vnd.docker.distribution.manifest.v2+json'
      const ref = tag ?? digest
      if (tag) {
        const current = await backend.getManifest(r.repositoryName, tag, 'HEAD')
        if (current?.digest === digest) {
          throw new AwsError(
            'ImageAlreadyExistsException',
            `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${r.repositoryName}' in registry with id '${accountId}'`
          )
        }
        if (current && tagIsImmutable(r, tag))
          throw new AwsError('ImageTagAlreadyExistsException', immutableMessage(r, tag))
      } else if (await backend.getManifest(r.repositoryName, digest, 'HEAD')) {
        // "The specified image has already been pushed, and there were no changes to the manifest or image tag"
        throw new AwsError(
          'ImageAlreadyExistsException',
          `Image with digest '${digest}' already exists in the repository with name '${r.repositoryName}' in registry with id '${accountId}'`
        )
      }
      const out = await backend.putManifest(r.repositoryName, ref, body, mediaType)
      if (out.status !== 201) {
        const codes = (out.errors ?? []).map((e) => e.code)
        if (codes.includes('MANIFEST_BLOB_UNKNOWN') || codes.includes('BLOB_UNKNOWN')) {
          throw new AwsError(
            'LayersNotFoundException',
            `The image manifest references layers or images that do not exist in the repository with name '${r.repositoryName}'`
          )
        }
        throw invalid(
          `Invalid parameter at 'ImageManifest' failed to satisfy constraint: '${(out.errors ?? []).map((e) => e.message).join('; ')}'`
        )
      }
      await onManifestStored(r.repositoryName, ref, digest)
      return {
        image: {
          registryId: accountId,
          repositoryName: r.repositoryName,
          imageId: { imageDigest: digest, imageTag: tag },
          imageManifest: manifestText,
          imageManifestMediaType: mediaType
        }
      }
    },

    StartImageScan: async (input) => {
      const r = repo(input['repositoryName'])
      if (scanning.scanType === 'ENHANCED')
        throw new AwsError('ValidationException', 'This feature is disabled')
      const info = await findImage(r, input['imageId'])
      if (INDEX_TYPES.has(info.mediaType))
        throw new AwsError(
          'UnsupportedImageTypeException',
          'The image is of a type that cannot be scanned.'
        )
      const key = scanKey(r.repositoryName, info.digest)
      const last = Math.max(
        manualScans.get(key) ?? -Infinity,
        scans.get(key)?.startedAt ?? -Infinity
      )
      if (clock.now() - last < DAY)
        throw new AwsError(
          'LimitExceededException',
          'The scan quota per image has been exceeded. Wait and try again.'
        )
      manualScans.set(key, clock.now())
      startScan(r.repositoryName, info.digest, 'BASIC')
      return {
        registryId: accountId,
        repositoryName: r.repositoryName,
        imageId: {
          imageDigest: info.digest,
          imageTag: (input['imageId'] as { imageTag?: string }).imageTag
        },
        imageScanStatus: { status: 'IN_PROGRESS', description: 'The scan is in progress.' }
      }
    },

    DescribeImageScanFindings: async (input) => {
      const r = repo(input['repositoryName'])
      const imageId = input['imageId'] as { imageDigest?: string; imageTag?: string }
      const info = await findImage(r, imageId)
      const view = await scanView(r, info, true)
      if (!view) {
        throw new AwsError(
          'ScanNotFoundException',
          `Image scan does not exist for the image with '${idText(imageId)}' in the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`
        )
      }
      const sorted = [...view.findings].sort(
        (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity)
      )
      const { page, nextToken } = paginate(sorted, input, 1000, 100)
      const observed = new Date(view.completedAt ?? clock.now())
      const hasFindings = view.status === 'COMPLETE' || view.status === 'ACTIVE'
      return {
        registryId: accountId,
        repositoryName: r.repositoryName,
        imageId: { imageDigest: info.digest, imageTag: imageId.imageTag },
        imageScanStatus: { status: view.status, description: view.description },
        imageScanFindings: hasFindings
          ? {
              imageScanCompletedAt: observed,
              vulnerabilitySourceUpdatedAt: new Date(clock.now() - DAY),
              findingSeverityCounts: severityCounts(view.findings),
              ...(view.type === 'ENHANCED'
                ? { enhancedFindings: page.map((f) => enhancedFinding(r, info, f, observed)) }
                : { findings: page.map(basicFinding) })
            }
          : undefined,
        nextToken: hasFindings ? nextToken : undefined
      }
    },

    ListTagsForResource: (input) => ({ tags: byArn(input['resourceArn']).tags }),

    TagResource: (input) => {
      const r = byArn(input['resourceArn'])
      const tags = (input['tags'] as Array<{ Key?: string; Value?: string }> | undefined) ?? []
      const merged = new Map(r.tags.map((t) => [t.Key, t.Value]))
      for (const t of tags) {
        if (typeof t.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128)
          throw invalid(
            "Invalid parameter at 'tags' failed to satisfy constraint: 'Tag keys must be 1 to 128 characters'"
          )
        merged.set(t.Key, t.Value ?? '')
      }
      if (merged.size > 50)
        throw new AwsError(
          'TooManyTagsException',
          'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.'
        )
      r.tags = [...merged].map(([Key, Value]) => ({ Key, Value }))
      return {}
    },

    UntagResource: (input) => {
      const r = byArn(input['resourceArn'])
      const keys = (input['tagKeys'] as string[] | undefined) ?? []
      r.tags = r.tags.filter((t) => !keys.includes(t.Key))
      return {}
    }
  }

  const hooks: ProxyHooks = {
    authenticate: (password) => {
      const t = tokens.get(password)
      if (!t) return undefined
      if (t.expiresAt <= clock.now()) return 'expired'
      return t.caller
    },
    repositoryExists: (name) => repos.has(name),
    repositoryArn: arnOf,
    checkTagWrite,
    onManifestStored: (repository, reference, digest) =>
      onManifestStored(repository, reference, digest)
  }

  // registryId (an account id) selects the registry. The simulator holds one registry, the stack account's;
  // another account's registry has no repository this caller can see (cross-account repository policies are not
  // modelled), as ECR answers when that account grants nothing.
  for (const [operation, handler] of Object.entries(handlers)) {
    handlers[operation] = (input, ctx) => {
      const registryId = input['registryId']
      if (registryId === undefined || registryId === accountId) return handler(input, ctx)
      if (typeof registryId !== 'string' || !/^[0-9]{12}$/.test(registryId))
        throw invalid(
          `Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''`
        )
      const name = str(input['repositoryName'])
      if (operation === 'DescribeRepositories' && input['repositoryNames'] === undefined)
        return { repositories: [] }
      const names = (input['repositoryNames'] as string[] | undefined) ?? (name ? [name] : [])
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${names[0] ?? ''}' does not exist in the registry with id '${registryId}'`
      )
    }
  }

  function parseImage(image: string): { repository: string; ref: string } | undefined {
    const host = options.registryHost()
    if (!host || !image.startsWith(`${host}/`)) return undefined
    const rest = image.slice(host.length + 1)
    const at = rest.indexOf('@')
    if (at >= 0) return { repository: rest.slice(0, at), ref: rest.slice(at + 1) }
    const colon = rest.lastIndexOf(':')
    if (colon > rest.lastIndexOf('/'))
      return { repository: rest.slice(0, colon), ref: rest.slice(colon + 1) }
    return { repository: rest, ref: 'latest' }
  }

  const registryView: RegistryView = {
    get host() {
      return options.registryHost()
    },
    resolve: async (image) => {
      const p = parseImage(image)
      if (!p || !backend || !repos.has(p.repository)) return undefined
      return (await backend.getManifest(p.repository, p.ref, 'HEAD'))?.digest
    },
    labels: async (image) => {
      const p = parseImage(image)
      if (!p || !backend || !repos.has(p.repository)) return undefined
      const m = await backend.getManifest(p.repository, p.ref)
      if (!m) return undefined
      const manifest = JSON.parse(m.body.toString('utf8')) as Record<string, unknown>
      return labelsOf(p.repository, {
        digest: m.digest,
        tags: [],
        mediaType: str(manifest['mediaType']) ?? m.mediaType,
        manifest,
        raw: m.body,
        pushedAt: 0
      })
    }
  }

  async function serveLayer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const token = url.pathname.slice(LAYER_URL_PREFIX.length)
    const entry = layerUrls.get(token)
    const deny = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/xml' })
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`
      )
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return deny(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.'
      )
    if (!entry) return deny(403, 'AccessDenied', 'Access Denied')
    if (clock.now() > entry.expiresAt) return deny(403, 'AccessDenied', 'Request has expired')
    const blob = backend ? await backend.getBlob(entry.repository, entry.digest) : undefined
    if (!blob) return deny(404, 'NoSuchKey', 'The specified key does not exist.')
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(blob.length)
    })
    res.end(req.method === 'HEAD' ? undefined : blob)
  }

  return {
    serveLayer,
    signingName: 'ecr',
    protocol: 'json1.1',
    targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
    handlers,
    hooks,
    registryView,
    issuedSecrets: () =>
      [...tokens.keys()].flatMap((password) => [
        password,
        Buffer.from(`AWS:${password}`).toString('base64')
      ]),
    resourceArn: (_op, input) => {
      const name = str(input['repositoryName'])
      return name ? arnOf(name) : undefined
    },
    admin: {
      scenarios: (body) => {
        if (typeof body['name'] === 'string') {
          const { name, ...scenario } = body as unknown as { name: string } & ScanScenario
          scenarios.set(name, scenario)
        }
        return Object.fromEntries(scenarios)
      },
      'scan-scenario': (body) => {
        if (body['scenario'] === undefined)
          throw new AwsError(
            'ValidationException',
            'scan-scenario needs {"scenario": "<name>" | {...}} and repository/tag/digest'
          )
        if (typeof body['scenario'] === 'string' && !scenarios.has(body['scenario']))
          throw new AwsError('ValidationException', `unknown scan scenario '${body['scenario']}'`)
        assignments.push(body as unknown as ScenarioAssignment)
        return { assignments }
      },
      repositories: () =>
        [...repos.values()].map((r) => ({
          ...describeRepo(r),
          tags: r.tags,
          lifecyclePolicyText: r.lifecyclePolicyText
        })),
      pushes: () =>
        [...repos.values()].flatMap((r) =>
          [...r.pushes.entries()].map(([digest, at]) => ({
            repository: r.repositoryName,
            digest,
            pushedAt: new Date(at).toISOString()
          }))
        ),
      /**
       * Runs every repository's lifecycle policy now (ECR does so within 24 hours): expires and deletes the selected
       * images and returns them. `{"repository": name}` limits it to one repository; `{"dryRun": true}` only lists.
       */
      'lifecycle-run': async (body) => {
        const only = typeof body['repository'] === 'string' ? [repo(body['repository'])] : undefined
        const expired: Array<Record<string, unknown>> = []
        for (const r of only ?? [...repos.values()]) {
          for (const { info, rulePriority } of await lifecycleExpired(r)) {
            expired.push({
              repository: r.repositoryName,
              imageDigest: info.digest,
              imageTags: info.tags,
              imagePushedAt: new Date(info.pushedAt).toISOString(),
              appliedRulePriority: rulePriority
            })
            if (body['dryRun'] === true) continue
            await backend?.deleteManifest(r.repositoryName, info.digest)
            r.pushes.delete(info.digest)
            scans.delete(scanKey(r.repositoryName, info.digest))
          }
        }
        return { expired }
      },
      'token-expire-all': () => {
        for (const t of tokens.values()) t.expiresAt = clock.now()
        return { expired: tokens.size }
      }
    }
  }
}
