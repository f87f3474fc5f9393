/**
 * Image planning and digest pinning for render-task-def: parse every requested image with the shared
 * reference parser, refuse `latest` unless allowed, and resolve tags to digests through ECR DescribeImages.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr'
import { ActionError, InputError } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError } from '@shipline/aws'
import { parseEcrRegistry } from '@shipline/ecr'
import {
  formatImageReference,
  type ImageReference,
  ImageReferenceError,
  isValidDigest,
  parseImageReference,
  withDigest
} from '@shipline/oci'

export interface ImageRequest {
  container: string
  image: string
  /** A digest given separately (e.g. build-tag-push's `image-digest` output). */
  digest?: string
  /** The input that supplied the image, for errors: `image` or `containers.<name>.image`. */
  input: string
}

export interface ImagePlan {
  container: string
  input: string
  ref: ImageReference
  /** The digest known without AWS (from the reference or the separate digest). */
  digest: string | undefined
  /** True when the digest must be looked up in ECR before rendering. */
  lookup: boolean
}

export interface ImagePolicy {
  pinDigest: boolean
  allowLatest: boolean
}

export function planImage(request: ImageRequest, policy: ImagePolicy): ImagePlan {
  let ref: ImageReference
  try {
    ref = parseImageReference(request.image)
  } catch (error) {
    if (error instanceof ImageReferenceError) {
      throw new InputError(
        request.input,
        error.message,
        'Use registry/repository:tag or registry/repository@sha256:<digest>, e.g. the image-uri output of build-tag-push.'
      )
    }
    throw error
  }
  let digest = ref.digest
  if (request.digest !== undefined) {
    const given = request.digest.trim()
    const digestInput = request.input.replace(/image$/, 'image-digest')
    if (!isValidDigest(given))
      throw new InputError(
        digestInput,
        `"${request.digest}" is not a sha256 digest`,
        'Use sha256:<64 lowercase hex>, e.g. the image-digest output of build-tag-push.'
      )
    if (digest !== undefined && digest !== given) {
      throw new InputError(
        digestInput,
        `"${given}" contradicts the digest in "${request.image}"`,
        'Give the digest only once, or make both the same.'
      )
    }
    digest = given
  }
  if (
    digest === undefined &&
    (ref.tag === undefined || ref.tag === 'latest') &&
    !policy.allowLatest
  ) {
    throw new InputError(
      request.input,
      `"${request.image}" ${ref.tag === undefined ? 'has no tag, which means "latest"' : 'uses the "latest" tag'}; latest is never deployed`,
      'Use the immutable tag or the digest build-tag-push produced (its image-ref output), or set "allow-latest: true".'
    )
  }
  return {
    container: request.container,
    input: request.input,
    ref,
    digest,
    lookup: digest === undefined && policy.pinDigest
  }
}

/** The image string to write: `registry/repo@sha256:…` when a digest is known, otherwise the reference as given. */
export function renderImage(plan: ImagePlan, digest: string | undefined = plan.digest): string {
  return digest ? withDigest(plan.ref, digest) : formatImageReference(plan.ref)
}

/** Resolves a tag to its digest. */
export type DigestLookup = (ref: ImageReference, input: string) => Promise<string>

/**
 * ECR DescribeImages. ECR hosts name their account and region; any other registry host (such as the
 * local stack's 127.0.0.1:<port>) is looked up in the caller's own registry in the session's region,
 * with the reference's path as the repository.
 */
export function ecrDigestLookup(
  ecrFor: (region: string | undefined) => Pick<ECRClient, 'send'>
): DigestLookup {
  return async (ref, input) => {
    const ecr = parseEcrRegistry(ref.registry)
    const client = ecrFor(ecr?.region)
    const image = formatImageReference(ref)
    let details
    try {
      const out = await client.send(
        new DescribeImagesCommand({
          ...(ecr ? { registryId: ecr.accountId } : {}),
          repositoryName: ref.repository,
          imageIds: [{ imageTag: ref.tag }]
        })
      )
      details = out.imageDetails ?? []
    } catch (error) {
      const code = awsErrorCode(error)
      if (code === 'ImageNotFoundException' || code === 'RepositoryNotFoundException') {
        throw new ActionError(
          `Image "${image}" (${input}) was not found in ECR: ${code === 'RepositoryNotFoundException' ? `repository "${ref.repository}" does not exist` : `no image is tagged "${ref.tag}"`}${ecr ? ` in account ${ecr.accountId}, ${ecr.region}` : ''}`,
          'Push it first (build-tag-push), fix the tag, pass its digest in "image-digest", or set "pin-digest: false" for images outside ECR.',
          { cause: error }
        )
      }
      throw describeAwsError(error, { action: 'ecr:DescribeImages', resource: ref.repository })
    }
    const digest = details[0]?.imageDigest
    if (!digest || !isValidDigest(digest)) {
      throw new ActionError(
        `ECR DescribeImages returned no digest for "${image}"`,
        'Pass the digest in "image-digest", or set "pin-digest: false".'
      )
    }
    return digest
  }
}
