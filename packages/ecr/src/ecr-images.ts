import type { ECRClient, ImageDetail, ImageIdentifier } from '@aws-sdk/client-ecr'
import { ActionError, errorMessage, httpFetch } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError } from '@shipline/aws'
import { loadEcr } from './sdk.js'

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerV1: 'application/vnd.docker.distribution.manifest.v1+json'
} as const

const ACCEPTED = Object.values(MEDIA_TYPES)

export function isImageIndex(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList
}

export interface RepoRef {
  repositoryName: string
  registryId?: string
}

export interface ImageManifest {
  digest: string
  manifest: string
  mediaType: string
}

function idText(imageId: ImageIdentifier): string {
  return imageId.imageDigest ?? `:${imageId.imageTag ?? '?'}`
}

/** DescribeImages for one tag or digest; undefined when the image (or tag) does not exist. */
export async function describeImage(
  ecr: ECRClient,
  repo: RepoRef,
  imageId: ImageIdentifier
): Promise<ImageDetail | undefined> {
  try {
    const out = await ecr.send(
      new (await loadEcr()).DescribeImagesCommand({
        repositoryName: repo.repositoryName,
        registryId: repo.registryId,
        imageIds: [imageId]
      })
    )
    return out.imageDetails?.[0]
  } catch (error) {
    if (awsErrorCode(error) === 'ImageNotFoundException') return undefined
    throw describeAwsError(error, {
      action: 'ecr:DescribeImages',
      resource: `${repo.repositoryName}${imageId.imageDigest ? '@' : ''}${idText(imageId)}`
    })
  }
}

/** BatchGetImage for one image: its manifest text, media type and digest (no pull). */
export async function getImageManifest(
  ecr: ECRClient,
  repo: RepoRef,
  imageId: ImageIdentifier
): Promise<ImageManifest> {
  const resource = `${repo.repositoryName}${imageId.imageDigest ? '@' : ''}${idText(imageId)}`
  let out
  try {
    out = await ecr.send(
      new (await loadEcr()).BatchGetImageCommand({
        repositoryName: repo.repositoryName,
        registryId: repo.registryId,
        imageIds: [imageId],
        acceptedMediaTypes: [...ACCEPTED]
      })
    )
  } catch (error) {
    throw describeAwsError(error, { action: 'ecr:BatchGetImage', resource })
  }
  const image = out.images?.[0]
  if (!image?.imageManifest) {
    const failure = out.failures?.[0]
    throw new ActionError(
      `Image ${resource} was not found in ECR${failure ? ` (${failure.failureCode}: ${failure.failureReason})` : ''}`,
      'Check the tag or digest and the repository name'
    )
  }
  const mediaType = image.imageManifestMediaType ?? manifestMediaType(image.imageManifest)
  return {
    digest: image.imageId?.imageDigest ?? imageId.imageDigest ?? '',
    manifest: image.imageManifest,
    mediaType
  }
}

function manifestMediaType(manifest: string): string {
  try {
    const parsed = JSON.parse(manifest) as { mediaType?: unknown; manifests?: unknown }
    if (typeof parsed.mediaType === 'string') return parsed.mediaType
    return Array.isArray(parsed.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest
  } catch {
    return MEDIA_TYPES.ociManifest
  }
}

export interface TagResult {
  /** Tags this call created. */
  added: string[]
  /** Tags that already pointed at this image. */
  existing: string[]
}

const CROSS_REPO_HINT =
  'PutImage only writes a manifest: every layer (and, for an index, every child manifest) must already be in the target repository. ' +
  'Promote within one repository, push the image to the target repository once (docker push or a replication rule), ' +
  'or use ECR replication / a pull-through cache'

const CONFLICT_CODES = new Set(['ImageAlreadyExistsException', 'ImageTagAlreadyExistsException'])

/**
 * A tag that names another image (or no image) after PutImage refused to write it. Callers that know where the tag
 * came from (a user's `tags` input, or the commit tag the action derived) catch it to give the right advice.
 */
export class TagConflictError extends ActionError {
  readonly tag: string
  /** The digest the tag names now; undefined when ECR lists no image for it. */
  readonly currentDigest: string | undefined
  /** The PutImage error code that reported the conflict. */
  readonly code: string

  constructor(
    repo: RepoRef,
    tag: string,
    wanted: string,
    currentDigest: string | undefined,
    code: string
  ) {
    super(
      currentDigest
        ? `Tag "${tag}" already points at another image (${currentDigest}, not ${wanted}) in the repository ${repo.repositoryName}: ECR refused to move it (${code})`
        : `ECR refused to write tag "${tag}" for ${wanted} in the repository ${repo.repositoryName} (${code}), and lists no image under that tag`,
      currentDigest
        ? `Immutable tags cannot move. Use a new tag, remove "${tag}" from "tags", or exclude it from immutability (IMMUTABLE_WITH_EXCLUSION)`
        : 'Re-run the job; if it persists, check the repository with aws ecr describe-images'
    )
    this.name = 'TagConflictError'
    this.tag = tag
    this.currentDigest = currentDigest
    this.code = code
  }
}

/**
 * Points each tag at the manifest with PutImage (no pull, no layer upload), in the order given. Idempotent: a tag that
 * already names this image counts as done, also on IMMUTABLE repositories. When PutImage answers
 * `ImageAlreadyExistsException` or `ImageTagAlreadyExistsException`, the tag is described again: it counts as done only
 * when it names this digest (some ECR implementations answer a conflicting immutable tag with
 * ImageAlreadyExistsException); otherwise a {@link TagConflictError}. At the end every tag is confirmed with
 * DescribeImages, so a tag is never reported that ECR does not list on the image.
 */
export async function putImageTags(
  ecr: ECRClient,
  repo: RepoRef,
  image: ImageManifest,
  tags: string[]
): Promise<TagResult> {
  const result: TagResult = { added: [], existing: [] }
  for (const tag of tags) {
    const current = await describeImage(ecr, repo, { imageTag: tag })
    if (current?.imageDigest === image.digest) {
      result.existing.push(tag)
      continue
    }
    try {
      await ecr.send(
        new (await loadEcr()).PutImageCommand({
          repositoryName: repo.repositoryName,
          registryId: repo.registryId,
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
          imageDigest: image.digest || undefined,
          imageTag: tag
        })
      )
      result.added.push(tag)
    } catch (error) {
      const code = awsErrorCode(error) ?? ''
      if (CONFLICT_CODES.has(code)) {
        const holder = await describeImage(ecr, repo, { imageTag: tag })
        if (holder?.imageDigest && holder.imageDigest === image.digest) {
          result.existing.push(tag)
          continue
        }
        throw new TagConflictError(repo, tag, image.digest, holder?.imageDigest, code)
      }
      if (code === 'LayersNotFoundException' || code === 'ReferencedImagesNotFoundException') {
        throw new ActionError(
          `ECR PutImage for ${repo.repositoryName}:${tag} failed: ${code}: ${errorMessage(error)}`,
          CROSS_REPO_HINT
        )
      }
      throw describeAwsError(error, {
        action: 'ecr:PutImage',
        resource: `${repo.repositoryName}:${tag}`
      })
    }
  }
  await confirmTags(ecr, repo, image.digest, tags)
  return result
}

/** Fails unless DescribeImages lists every tag on the digest (the outputs must name only images that exist). */
export async function confirmTags(
  ecr: ECRClient,
  repo: RepoRef,
  digest: string,
  tags: string[]
): Promise<void> {
  if (!tags.length) return
  const detail = await describeImage(ecr, repo, { imageDigest: digest })
  const listed = detail?.imageTags ?? []
  const missing = tags.filter((t) => !listed.includes(t))
  if (!detail || missing.length) {
    throw new ActionError(
      detail
        ? `ECR does not list ${missing.map((t) => `"${t}"`).join(', ')} on ${repo.repositoryName}@${digest} after tagging it (it lists ${listed.length ? listed.join(', ') : 'no tags'})`
        : `ECR lists no image ${repo.repositoryName}@${digest} after tagging it`,
      'Nothing was reported as published. Re-run the job; if it persists, check the repository with aws ecr describe-images'
    )
  }
}

export interface PlatformManifest {
  platform: string
  digest: string
  mediaType: string
}

interface Descriptor {
  mediaType?: string
  digest?: string
  platform?: { os?: string; architecture?: string; variant?: string }
  annotations?: Record<string, string>
}

/** The platform images of an index, without attestation manifests (unknown/unknown, vnd.docker.reference.type). */
export function platformManifests(indexText: string): PlatformManifest[] {
  const index = JSON.parse(indexText) as { manifests?: Descriptor[] }
  return (index.manifests ?? [])
    .filter(
      (m) =>
        m.digest &&
        !(m.platform?.os === 'unknown' && m.platform.architecture === 'unknown') &&
        m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest'
    )
    .map((m) => ({
      platform: [m.platform?.os, m.platform?.architecture, m.platform?.variant]
        .filter(Boolean)
        .join('/'),
      digest: m.digest as string,
      mediaType: m.mediaType ?? MEDIA_TYPES.ociManifest
    }))
}

export interface ImageConfig {
  platform: string
  digest: string
  user: string
  labels: Record<string, string>
}

export type Fetcher = (
  url: string
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>

/** The manifest of `digest`: `known` when it is that manifest already, else read from ECR (BatchGetImage). */
export async function manifestOf(
  ecr: ECRClient,
  repo: RepoRef,
  digest: string,
  known?: ImageManifest
): Promise<ImageManifest> {
  return known?.digest === digest ? known : getImageManifest(ecr, repo, { imageDigest: digest })
}

/**
 * Reads each platform image's config from ECR (BatchGetImage for the manifests, GetDownloadUrlForLayer for the
 * config blob): used when the image was pushed by buildx and is not in the local engine.
 */
export async function getImageConfigs(
  ecr: ECRClient,
  repo: RepoRef,
  digest: string,
  fetcher: Fetcher = httpFetch,
  /** The manifest of `digest` when the caller has it already (saves a BatchGetImage). */
  known?: ImageManifest
): Promise<ImageConfig[]> {
  const top = await manifestOf(ecr, repo, digest, known)
  const images: PlatformManifest[] = isImageIndex(top.mediaType)
    ? platformManifests(top.manifest)
    : [{ platform: '', digest, mediaType: top.mediaType }]
  const configs: ImageConfig[] = []
  for (const image of images) {
    const manifest = await manifestOf(ecr, repo, image.digest, top)
    const configDigest = (JSON.parse(manifest.manifest) as { config?: { digest?: string } }).config
      ?.digest
    if (!configDigest) {
      throw new ActionError(
        `Image ${repo.repositoryName}@${image.digest} has no config`,
        'Rebuild the image'
      )
    }
    let url: string | undefined
    try {
      const out = await ecr.send(
        new (await loadEcr()).GetDownloadUrlForLayerCommand({
          repositoryName: repo.repositoryName,
          registryId: repo.registryId,
          layerDigest: configDigest
        })
      )
      url = out.downloadUrl
    } catch (error) {
      throw describeAwsError(error, {
        action: 'ecr:GetDownloadUrlForLayer',
        resource: `${repo.repositoryName}@${configDigest}`
      })
    }
    if (!url)
      throw new ActionError(`ECR gave no download URL for ${configDigest}`, 'Re-run the job')
    const response = await fetcher(url)
    if (!response.ok) {
      throw new ActionError(
        `Downloading the image config ${configDigest} failed with HTTP ${response.status}`,
        'Re-run the job'
      )
    }
    const config = JSON.parse(await response.text()) as {
      config?: { User?: string; Labels?: Record<string, string> | null }
    }
    configs.push({
      platform: image.platform,
      digest: image.digest,
      user: config.config?.User ?? '',
      labels: config.config?.Labels ?? {}
    })
  }
  return configs
}
