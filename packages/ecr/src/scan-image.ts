import type { ECRClient, ImageIdentifier } from '@aws-sdk/client-ecr'
import { ActionError, InputError } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError } from '@shipline/aws'
import { formatImageReference, type ImageReference, platformMatches } from '@shipline/oci'
import { parseEcrRegistry } from './registry.js'
import { loadEcr } from './sdk.js'

export type EcrSender = Pick<ECRClient, 'send'>

export const INDEX_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
] as const
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
] as const

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && (INDEX_MEDIA_TYPES as readonly string[]).includes(mediaType)
}

/** Where an image lives in ECR: the repository, and the registry (account) when the host names one. */
export interface EcrImageLocation {
  repositoryName: string
  /** The 12-digit registry id from an ECR host; undefined = the caller's default registry. */
  registryId: string | undefined
}

/** One image manifest to scan and gate. */
export interface ScanTarget extends EcrImageLocation {
  digest: string
  /** "os/arch[/variant]" when the target came from an image index. */
  platform?: string
}

export interface ResolvedImage extends EcrImageLocation {
  /** What the user gave, normalised. */
  reference: string
  /** The digest the reference resolves to (the index digest when it is an index). */
  digest: string
  mediaType: string | undefined
  isIndex: boolean
  /** The per-platform images to gate (just the image itself when it is not an index). */
  targets: ScanTarget[]
  /** Platforms present in the index, when it is one (attestations excluded). */
  availablePlatforms: string[]
  /** Attestation / unknown-platform children that were skipped. */
  skippedChildren: number
}

export function ecrLocation(ref: ImageReference): EcrImageLocation {
  return { repositoryName: ref.repository, registryId: parseEcrRegistry(ref.registry)?.accountId }
}

interface IndexChild {
  digest?: unknown
  mediaType?: unknown
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown }
  annotations?: Record<string, unknown>
}

export interface IndexPlatform {
  digest: string
  platform: string | undefined
  attestation: boolean
}

/** The children of an image index with their platforms; attestation manifests are flagged. */
export function indexPlatforms(manifestText: string): IndexPlatform[] {
  let parsed: { manifests?: unknown }
  try {
    parsed = JSON.parse(manifestText) as { manifests?: unknown }
  } catch {
    throw new ActionError(
      'ECR returned an image index that is not valid JSON',
      'Re-push the image.'
    )
  }
  const children = Array.isArray(parsed.manifests) ? (parsed.manifests as IndexChild[]) : []
  return children
    .filter((c): c is IndexChild & { digest: string } => typeof c.digest === 'string')
    .map((c) => {
      const os = typeof c.platform?.os === 'string' ? c.platform.os : undefined
      const arch =
        typeof c.platform?.architecture === 'string' ? c.platform.architecture : undefined
      const variant = typeof c.platform?.variant === 'string' ? c.platform.variant : undefined
      const attestation =
        c.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
        (os === 'unknown' && arch === 'unknown')
      const platform = os && arch ? [os, arch, variant].filter(Boolean).join('/') : undefined
      return { digest: c.digest, platform, attestation }
    })
}

/** Platforms compare as containerd normalises them: "linux/arm64/v8" is the index entry "linux/arm64". */
export { platformMatches }

/**
 * Resolves a tag or digest to the image(s) to gate: DescribeImages first (the image must exist), then, for an
 * image index, BatchGetImage of the index to find the per-platform digests (ECR cannot scan an index).
 */
export async function resolveScanTargets(
  ecr: EcrSender,
  ref: ImageReference,
  platform: string,
  input = 'image'
): Promise<ResolvedImage> {
  const location = ecrLocation(ref)
  const reference = formatImageReference(ref)
  const imageId: ImageIdentifier = ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag }
  let detail
  try {
    const out = await ecr.send(
      new (await loadEcr()).DescribeImagesCommand({ ...location, imageIds: [imageId] })
    )
    detail = out.imageDetails?.[0]
  } catch (error) {
    throw notFoundError(error, reference, location, input)
  }
  if (!detail?.imageDigest) {
    throw new ActionError(
      `ECR DescribeImages returned no digest for ${reference}`,
      'Check that the image was pushed completely, then re-run.'
    )
  }
  const digest = detail.imageDigest
  let mediaType = detail.imageManifestMediaType
  let manifestText: string | undefined
  if (mediaType === undefined || isIndexMediaType(mediaType)) {
    const fetched = await getManifest(ecr, location, digest, reference)
    mediaType ??= fetched.mediaType
    manifestText = fetched.manifest
  }
  const resolved: ResolvedImage = {
    ...location,
    reference,
    digest,
    mediaType,
    isIndex: isIndexMediaType(mediaType),
    targets: [],
    availablePlatforms: [],
    skippedChildren: 0
  }
  if (!resolved.isIndex) {
    resolved.targets = [{ ...location, digest }]
    return resolved
  }
  const children = indexPlatforms(manifestText ?? '{}')
  const images = children.filter((c) => !c.attestation && c.platform)
  resolved.skippedChildren = children.length - images.length
  resolved.availablePlatforms = images.map((c) => c.platform as string)
  const chosen =
    platform === 'all' ? images : images.filter((c) => platformMatches(platform, c.platform))
  if (chosen.length === 0) {
    throw new InputError(
      'platform',
      `"${platform}" is not in the image index ${reference} (it has ${resolved.availablePlatforms.join(', ') || 'no platform images'})`,
      `Set "platform" to one of ${[...resolved.availablePlatforms, 'all'].map((p) => `"${p}"`).join(', ')}.`
    )
  }
  resolved.targets = chosen.map((c) => ({
    ...location,
    digest: c.digest,
    platform: c.platform as string
  }))
  return resolved
}

async function getManifest(
  ecr: EcrSender,
  location: EcrImageLocation,
  digest: string,
  reference: string
): Promise<{ manifest: string; mediaType: string | undefined }> {
  try {
    const out = await ecr.send(
      new (await loadEcr()).BatchGetImageCommand({
        ...location,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES]
      })
    )
    const image = out.images?.[0]
    if (!image?.imageManifest) {
      const failure = out.failures?.[0]
      throw new ActionError(
        `ECR BatchGetImage returned no manifest for ${reference}${failure ? ` (${failure.failureCode}: ${failure.failureReason})` : ''}`,
        'Check that the image was pushed completely, then re-run.'
      )
    }
    let mediaType = image.imageManifestMediaType
    if (!mediaType) {
      try {
        const m = (JSON.parse(image.imageManifest) as { mediaType?: unknown }).mediaType
        if (typeof m === 'string') mediaType = m
      } catch {
        // left undefined: treated as a single image manifest
      }
    }
    return { manifest: image.imageManifest, mediaType }
  } catch (error) {
    throw describeAwsError(error, {
      action: 'ecr:BatchGetImage',
      resource: location.repositoryName
    })
  }
}

function notFoundError(
  error: unknown,
  reference: string,
  location: EcrImageLocation,
  input: string
): ActionError {
  const code = awsErrorCode(error)
  const where = `${location.registryId ? `registry ${location.registryId}, ` : ''}repository "${location.repositoryName}"`
  if (code === 'ImageNotFoundException') {
    return new InputError(
      input,
      `image ${reference} does not exist in ECR (${where})`,
      'Pass the image-uri or image-ref output of build-tag-push, and check the tag or digest and "aws-region".'
    )
  }
  if (code === 'RepositoryNotFoundException') {
    return new InputError(
      input,
      `ECR repository "${location.repositoryName}" does not exist${location.registryId ? ` in registry ${location.registryId}` : ''}`,
      'Check the repository name and "aws-region" (and the account in the registry host).'
    )
  }
  return describeAwsError(error, {
    action: 'ecr:DescribeImages',
    resource: location.repositoryName
  })
}
