/**
 * Container image references, following the distribution/reference grammar:
 *   [registry[:port]/]path[:tag][@algorithm:hex]
 * The first path component is a registry only when it contains "." or ":" or is "localhost"
 * (so "127.0.0.1:5000/app:1" has a registry with a port and "team/app" does not).
 */
export interface ImageReference {
  /** Registry host with optional port, e.g. "123456789012.dkr.ecr.us-east-1.amazonaws.com" or "127.0.0.1:5001"; undefined for Docker Hub short names. */
  registry: string | undefined
  /** Repository path inside the registry, e.g. "team/api". */
  repository: string
  tag: string | undefined
  /** "sha256:<64 hex>" */
  digest: string | undefined
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/
const HOST =
  /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/

export class ImageReferenceError extends Error {
  constructor(reference: string, problem: string) {
    super(`"${reference}" is not a valid image reference: ${problem}`)
    this.name = 'ImageReferenceError'
  }
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag)
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest)
}

export function parseImageReference(reference: string): ImageReference {
  const text = reference.trim()
  if (text === '') throw new ImageReferenceError(reference, 'it is empty')
  if (/\s/.test(text)) throw new ImageReferenceError(reference, 'it contains white space')

  let rest = text
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest))
      throw new ImageReferenceError(
        reference,
        `digest "${digest}" is not sha256:<64 lowercase hex>`
      )
  }

  let registry: string | undefined
  const slash = rest.indexOf('/')
  if (slash > 0) {
    const first = rest.slice(0, slash)
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      if (!HOST.test(first))
        throw new ImageReferenceError(reference, `registry "${first}" is not a valid host[:port]`)
      registry = first
      rest = rest.slice(slash + 1)
    }
  }

  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon >= 0) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag))
      throw new ImageReferenceError(
        reference,
        `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
      )
  }

  if (rest === '') throw new ImageReferenceError(reference, 'the repository name is missing')
  for (const component of rest.split('/')) {
    if (!COMPONENT.test(component)) {
      throw new ImageReferenceError(
        reference,
        `repository path component "${component}" must be lowercase letters, digits and separators (. _ __ -)`
      )
    }
  }
  if (rest.length > 255)
    throw new ImageReferenceError(reference, 'the repository name is longer than 255 characters')
  return { registry, repository: rest, tag, digest }
}

/** "registry/repository" (or just the repository for Docker Hub short names). */
export function repositoryUri(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository
}

/** Formats a reference back to text; with both tag and digest, "repo:tag@sha256:…". */
export function formatImageReference(ref: ImageReference): string {
  return `${repositoryUri(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

/** The same repository addressed by digest only: "registry/repo@sha256:…". */
export function withDigest(ref: ImageReference, digest: string): string {
  return `${repositoryUri(ref)}@${digest}`
}
