import type { ECRClient, Repository } from '@aws-sdk/client-ecr'
import { ActionError, errorMessage } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError, isAccessDenied } from '@shipline/aws'
import { loadEcr } from './sdk.js'

export type TagMutability = 'MUTABLE' | 'IMMUTABLE'
export type EncryptionType = 'AES256' | 'KMS'

export interface RepositorySettings {
  imageTagMutability: TagMutability
  scanOnPush: boolean
  encryptionType: EncryptionType
  /** KMS key ARN/ID/alias; only with encryptionType KMS (absent = the AWS-managed key). */
  kmsKey?: string
}

export interface EnsureRepositoryOptions {
  repositoryName: string
  registryId?: string
  create: boolean
  settings: RepositorySettings
  /** Lifecycle policy JSON text applied to a repository this call creates. */
  lifecyclePolicy?: string
  /** Resolves a KMS key alias to its key ARN (kms:DescribeKey), to compare it with an existing repository's key. */
  resolveKmsKey?: KmsKeyResolver
}

/** Returns the key ARN a KMS key ID, ARN or alias names; throws the AWS error (e.g. AccessDenied). */
export type KmsKeyResolver = (keyId: string) => Promise<string | undefined>

export interface RepositoryInfo {
  repositoryName: string
  repositoryUri: string
  repositoryArn: string
  registryId: string
  /** The registry host part of the repository URI (host[:port]). */
  registry: string
  imageTagMutability: string
  created: boolean
  /** Human-readable differences between the inputs and an existing repository (never applied). */
  differences: string[]
  /** What was done to an existing repository, or could not be checked (for the log). */
  notes: string[]
}

/** ECR's repository-name grammar (2–256 characters, lowercase, path components). */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/

export function isValidRepositoryName(name: string): boolean {
  return name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name)
}

/**
 * The "keep-last: N" shorthand: one rule over **all** images (`tagStatus: any`), expiring every image beyond the N
 * most recently pushed. Every image we push carries tags, so a rule over untagged images alone never expires
 * anything. ECR applies rules from the lowest rulePriority up, an image claimed by one rule cannot be expired by a
 * later one, and an `any` rule must have the highest priority; as the only rule it sees every image, so the N newest
 * (tagged, or untagged such as the per-platform images of an index that deployments pin by digest) are never
 * expired, whatever their tags.
 */
export function keepLastPolicy(count: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Keep the last ${count} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: count },
        action: { type: 'expire' }
      }
    ]
  })
}

/** The tag CreateRepository puts on repositories this action creates, so that a re-run knows it owns them. */
export const CREATED_BY_TAG = { Key: 'created-by', Value: 'shipline/build-tag-push' } as const

/** Compares two lifecycle policies as JSON values (key order and spacing do not matter). */
export function samePolicy(a: string, b: string): boolean {
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b))
  } catch {
    return a.trim() === b.trim()
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) =>
      x.localeCompare(y)
    )
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The differences between an existing repository and the requested settings, as sentences. */
export function settingsDifferences(repo: Repository, settings: RepositorySettings): string[] {
  const out: string[] = []
  const mutability = repo.imageTagMutability ?? 'MUTABLE'
  if (mutability !== settings.imageTagMutability) {
    out.push(
      `image-tag-mutability is ${mutability}, the inputs ask for ${settings.imageTagMutability}`
    )
  }
  const scan = repo.imageScanningConfiguration?.scanOnPush ?? false
  if (scan !== settings.scanOnPush) {
    out.push(`scan-on-push is ${scan}, the inputs ask for ${settings.scanOnPush}`)
  }
  const encryption = repo.encryptionConfiguration?.encryptionType ?? 'AES256'
  if (encryption !== settings.encryptionType) {
    out.push(`encryption is ${encryption}, the inputs ask for ${settings.encryptionType}`)
  } else if (
    settings.encryptionType === 'KMS' &&
    settings.kmsKey &&
    !isKmsAlias(settings.kmsKey) &&
    repo.encryptionConfiguration?.kmsKey &&
    !sameKmsKey(repo.encryptionConfiguration.kmsKey, settings.kmsKey)
  ) {
    out.push(
      `the KMS key is ${repo.encryptionConfiguration.kmsKey}, the inputs ask for ${settings.kmsKey}`
    )
  }
  return out
}

/** `alias/…` or an alias ARN: ECR reports the key ARN, so an alias can only be compared after resolving it. */
export function isKmsAlias(key: string): boolean {
  return key.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(key)
}

/** A key ARN against a key ARN or key ID (not an alias). */
function sameKmsKey(reportedArn: string, wanted: string): boolean {
  if (wanted.startsWith('arn:')) return reportedArn === wanted
  return reportedArn.endsWith(`:key/${wanted}`)
}

/**
 * Compares an existing repository's key (ECR reports the key ARN) with a `kms-key` alias, resolved with
 * kms:DescribeKey when the caller can; otherwise says that the comparison was skipped.
 */
async function compareKmsAlias(
  repo: Repository,
  settings: RepositorySettings,
  resolve: KmsKeyResolver | undefined,
  differences: string[],
  notes: string[]
): Promise<void> {
  const alias = settings.kmsKey
  const reported = repo.encryptionConfiguration?.kmsKey
  if (
    settings.encryptionType !== 'KMS' ||
    repo.encryptionConfiguration?.encryptionType !== 'KMS' ||
    !alias ||
    !isKmsAlias(alias) ||
    !reported
  )
    return
  let resolved: string | undefined
  let why: string
  if (!resolve) {
    why = 'no KMS client'
  } else {
    try {
      resolved = await resolve(alias)
      why = 'KMS returned no key ARN'
    } catch (error) {
      const code = awsErrorCode(error) ?? errorMessage(error)
      why = isAccessDenied(error) ? `${code}: grant kms:DescribeKey on the key to compare` : code
    }
  }
  if (resolved === undefined) {
    notes.push(
      `the KMS key comparison was skipped: ECR reports the key ARN ${reported}, and "${alias}" could not be resolved (${why})`
    )
    return
  }
  if (resolved !== reported)
    differences.push(`the KMS key is ${reported}, the inputs ask for ${alias} (${resolved})`)
}

function hostOf(uri: string): string {
  const slash = uri.indexOf('/')
  return slash > 0 ? uri.slice(0, slash) : uri
}

function info(
  repo: Repository,
  created: boolean,
  differences: string[],
  notes: string[] = []
): RepositoryInfo {
  if (!repo.repositoryUri || !repo.repositoryName || !repo.registryId) {
    throw new ActionError(
      'ECR returned a repository without a name, URI or registry ID',
      'Re-run the job; if it persists, check the ECR endpoint the job talks to'
    )
  }
  return {
    repositoryName: repo.repositoryName,
    repositoryUri: repo.repositoryUri,
    repositoryArn: repo.repositoryArn ?? '',
    registryId: repo.registryId,
    registry: hostOf(repo.repositoryUri),
    imageTagMutability: repo.imageTagMutability ?? 'MUTABLE',
    created,
    differences,
    notes
  }
}

export async function describeRepository(
  ecr: ECRClient,
  repositoryName: string,
  registryId?: string
): Promise<Repository | undefined> {
  try {
    const out = await ecr.send(
      new (await loadEcr()).DescribeRepositoriesCommand({
        repositoryNames: [repositoryName],
        registryId
      })
    )
    return out.repositories?.[0]
  } catch (error) {
    if (awsErrorCode(error) === 'RepositoryNotFoundException') return undefined
    throw describeAwsError(error, {
      action: 'ecr:DescribeRepositories',
      resource: `repository ${repositoryName}`
    })
  }
}

async function currentLifecyclePolicy(
  ecr: ECRClient,
  repositoryName: string,
  registryId?: string
): Promise<string | undefined> {
  try {
    const out = await ecr.send(
      new (await loadEcr()).GetLifecyclePolicyCommand({ repositoryName, registryId })
    )
    return out.lifecyclePolicyText
  } catch (error) {
    if (awsErrorCode(error) === 'LifecyclePolicyNotFoundException') return undefined
    throw describeAwsError(error, {
      action: 'ecr:GetLifecyclePolicy',
      resource: `repository ${repositoryName}`
    })
  }
}

async function putLifecyclePolicy(
  ecr: ECRClient,
  repositoryName: string,
  registryId: string | undefined,
  lifecyclePolicyText: string
): Promise<void> {
  try {
    await ecr.send(
      new (await loadEcr()).PutLifecyclePolicyCommand({
        repositoryName,
        registryId,
        lifecyclePolicyText
      })
    )
  } catch (error) {
    throw describeAwsError(error, {
      action: 'ecr:PutLifecyclePolicy',
      resource: `repository ${repositoryName}`
    })
  }
}

/** Whether the repository carries our creation tag; undefined when its tags cannot be read. */
async function createdByUs(ecr: ECRClient, repo: Repository): Promise<boolean | undefined> {
  if (!repo.repositoryArn) return undefined
  try {
    const out = await ecr.send(
      new (await loadEcr()).ListTagsForResourceCommand({ resourceArn: repo.repositoryArn })
    )
    return (out.tags ?? []).some(
      (t) => t.Key === CREATED_BY_TAG.Key && t.Value === CREATED_BY_TAG.Value
    )
  } catch (error) {
    if (isAccessDenied(error)) return undefined
    throw describeAwsError(error, {
      action: 'ecr:ListTagsForResource',
      resource: `repository ${repo.repositoryName ?? ''}`
    })
  }
}

/**
 * Finds the repository, or creates it with the requested settings when allowed. An existing repository is never
 * modified: its differences from the inputs are returned so that the caller can warn about them.
 */
export async function ensureRepository(
  ecr: ECRClient,
  options: EnsureRepositoryOptions
): Promise<RepositoryInfo> {
  const { repositoryName, registryId, settings } = options
  const existing = await describeRepository(ecr, repositoryName, registryId)
  if (existing) {
    const differences = settingsDifferences(existing, settings)
    const notes: string[] = []
    await compareKmsAlias(existing, settings, options.resolveKmsKey, differences, notes)
    if (options.lifecyclePolicy !== undefined) {
      const current = await currentLifecyclePolicy(ecr, repositoryName, registryId)
      if (current === undefined) {
        // A repository this action created whose policy never landed (PutLifecyclePolicy failed after
        // CreateRepository): finish the creation. Anyone else's repository is never changed.
        const ours = await createdByUs(ecr, existing)
        if (ours === true) {
          await putLifecyclePolicy(ecr, repositoryName, registryId, options.lifecyclePolicy)
          notes.push(
            `applied the lifecycle policy that was missing (this action created the repository, tag ${CREATED_BY_TAG.Key}=${CREATED_BY_TAG.Value}, and an earlier run could not apply it)`
          )
        } else {
          differences.push('it has no lifecycle policy, the inputs give one')
          if (ours === undefined)
            notes.push(
              'could not read the repository tags (grant ecr:ListTagsForResource) to tell whether this action created it and may apply the missing lifecycle policy'
            )
        }
      } else if (!samePolicy(current, options.lifecyclePolicy))
        differences.push('its lifecycle policy differs from "lifecycle-policy"')
    }
    return info(existing, false, differences, notes)
  }
  const where = registryId ? ` in registry ${registryId}` : ''
  if (!options.create) {
    throw new ActionError(
      `ECR repository "${repositoryName}"${where} does not exist and "create-repository" is false`,
      `Create it first (aws ecr create-repository --repository-name ${repositoryName} --image-tag-mutability ${settings.imageTagMutability}), fix the "repository" input, or set "create-repository: true"`
    )
  }
  let repo: Repository | undefined
  try {
    const out = await ecr.send(
      new (await loadEcr()).CreateRepositoryCommand({
        repositoryName,
        registryId,
        imageTagMutability: settings.imageTagMutability,
        imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
        encryptionConfiguration: {
          encryptionType: settings.encryptionType,
          ...(settings.encryptionType === 'KMS' && settings.kmsKey
            ? { kmsKey: settings.kmsKey }
            : {})
        },
        tags: [{ ...CREATED_BY_TAG }]
      })
    )
    repo = out.repository
  } catch (error) {
    if (awsErrorCode(error) === 'RepositoryAlreadyExistsException') {
      // Another job created it between our describe and create: use it as it is.
      const raced = await describeRepository(ecr, repositoryName, registryId)
      if (raced) return info(raced, false, settingsDifferences(raced, settings))
    }
    throw describeAwsError(error, {
      action: 'ecr:CreateRepository',
      resource: `repository ${repositoryName}${where}`
    })
  }
  if (!repo) {
    throw new ActionError(
      `ECR CreateRepository returned no repository for "${repositoryName}"`,
      'Re-run the job'
    )
  }
  if (options.lifecyclePolicy !== undefined) {
    try {
      await putLifecyclePolicy(ecr, repositoryName, registryId, options.lifecyclePolicy)
    } catch (error) {
      if (error instanceof ActionError) {
        throw new ActionError(
          `Created ECR repository "${repositoryName}"${where}, but could not apply its lifecycle policy: ${error.message}`,
          'Fix the cause and re-run the job: the repository is tagged as created by this action, so the re-run applies the missing policy.'
        )
      }
      throw error
    }
  }
  return info(repo, true, [])
}
