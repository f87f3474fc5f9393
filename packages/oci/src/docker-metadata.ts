import { ActionError } from '@shipline/action-kit'

export interface BuildxResult {
  /** The pushed top-level digest (an index digest when an index was pushed). */
  digest: string
  /** The media type of the pushed descriptor, when buildx reported it. */
  mediaType: string | undefined
  /** The config digest (single-platform builds only). */
  configDigest: string | undefined
}

const DIGEST = /^sha256:[a-f0-9]{64}$/

/** Parses a `docker buildx build --metadata-file` document. */
export function parseBuildxMetadata(text: string): BuildxResult {
  let data: Record<string, unknown>
  try {
    data = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new ActionError(
      'The buildx metadata file is not JSON',
      'Re-run the job; update buildx if it persists'
    )
  }
  if (!data || typeof data !== 'object') {
    throw new ActionError(
      'The buildx metadata file is empty',
      'Check that the build pushed an image'
    )
  }
  const descriptor = data['containerimage.descriptor'] as
    { mediaType?: string; digest?: string } | undefined
  const digest = (data['containerimage.digest'] as string | undefined) ?? descriptor?.digest
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw new ActionError(
      'The buildx metadata file has no "containerimage.digest": nothing was pushed',
      'Check the build output above; the image must be exported to the registry'
    )
  }
  const configDigest = data['containerimage.config.digest']
  return {
    digest,
    mediaType: descriptor?.mediaType,
    configDigest: typeof configDigest === 'string' ? configDigest : undefined
  }
}
