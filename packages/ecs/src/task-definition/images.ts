/**
 * Image planning and digest pinning for render-task-def: parse every requested image with the shared
 * reference parser, refuse `latest` unless allowed, and resolve tags to digests: ECR images through ECR
 * DescribeImages, images of any other registry through that registry's own OCI distribution API.
 */
import type { ECRClient } from '@aws-sdk/client-ecr'
import { ActionError, InputError } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError } from '@shipline/aws'
import { parseEcrRegistry } from '@shipline/ecr'
import {
  formatImageReference,
  type ImageReference,
  ImageReferenceError,
  isValidDigest,
  parseImageReference,
  RegistryLookupError,
  resolveRegistryDigest,
  withDigest
} from '@shipline/oci'
import { loadEcr } from '@shipline/ecr'

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

export interface DigestLookupDeps {
  /** An ECR client in `region` (undefined: the session's region). */
  ecrFor(region: string | undefined): Pick<ECRClient, 'send'>
  /**
   * The registry host of the configured ECR endpoint, when `AWS_ENDPOINT_URL(_ECR)` points at a stand-in
   * (such as the local stack's 127.0.0.1:<port>); undefined against AWS itself.
   */
  endpointRegistry?: () => Promise<string | undefined>
  /** Resolves a tag through the image's own registry (default: the OCI distribution API). */
  resolveRegistry?: (ref: ImageReference) => Promise<string>
}

/**
 * Where each image's digest comes from: private ECR hosts (`<account>.dkr.ecr.<region>.amazonaws.com`) through
 * ECR DescribeImages with that account as registryId, in that region; the configured endpoint's registry through
 * DescribeImages in the session's region; every other registry (public.ecr.aws, ghcr.io, Docker Hub, …) through
 * its own OCI distribution API, anonymously. Never the caller's ECR for another registry's image.
 */
export function imageDigestLookup(deps: DigestLookupDeps): DigestLookup {
  const resolveRegistry = deps.resolveRegistry ?? ((ref) => resolveRegistryDigest(ref))
  let endpoint: Promise<string | undefined> | undefined
  return async (ref, input) => {
    const ecr = parseEcrRegistry(ref.registry)
    if (ecr) return describeEcrDigest(deps.ecrFor(ecr.region), ref, input, ecr)
    if (ref.registry !== undefined && deps.endpointRegistry) {
      endpoint ??= deps.endpointRegistry()
      if (ref.registry === (await endpoint))
        return describeEcrDigest(deps.ecrFor(undefined), ref, input, undefined)
    }
    const image = formatImageReference(ref)
    try {
      return await resolveRegistry(ref)
    } catch (error) {
      if (!(error instanceof RegistryLookupError)) throw error
      throw new ActionError(
        `Could not resolve the digest of "${image}" (${input}) through its registry: ${error.message}`,
        `It is not an ECR image, so its own registry was asked anonymously. Set "pin-digest: false" to deploy it by tag, or give its digest (${input.endsWith('image') ? `"${input.replace(/image$/, 'image-digest')}" or ` : ''}${image}@sha256:…).`,
        { cause: error }
      )
    }
  }
}

/** ECR DescribeImages for one tag: with the image's own account as registryId when its host names one. */
async function describeEcrDigest(
  client: Pick<ECRClient, 'send'>,
  ref: ImageReference,
  input: string,
  ecr: { accountId: string; region: string } | undefined
): Promise<string> {
  const image = formatImageReference(ref)
  let details
  try {
    const out = await client.send(
      new (await loadEcr()).DescribeImagesCommand({
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
        'Push it first (build-tag-push), fix the tag, pass its digest in "image-digest", or set "pin-digest: false".',
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
