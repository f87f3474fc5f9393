import { formatImageReference, type ImageReference, parseImageReference } from '@shipline/oci'

/** A parsed `images` entry: what to write, and the repository it replaces. */
export interface ImageSpec {
  /** As given. */
  input: string
  ref: ImageReference
  /** Normalised "registry/repository" used for matching. */
  key: string
}

/** docker.io short names: "nginx" → "docker.io/library/nginx". */
export function repositoryKey(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  let registry = ref.registry ?? 'docker.io'
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io'
  const repository =
    registry === 'docker.io' && !ref.repository.includes('/')
      ? `library/${ref.repository}`
      : ref.repository
  return `${registry}/${repository}`
}

export function parseImageSpec(input: string): ImageSpec {
  const ref = parseImageReference(input)
  if (!ref.tag && !ref.digest) {
    throw new Error(`"${input}" has neither a tag nor a digest`)
  }
  return { input, ref, key: repositoryKey(ref) }
}

/** The repository key of an image found in a manifest; undefined when it does not parse. */
export function manifestImageKey(image: string): string | undefined {
  try {
    return repositoryKey(parseImageReference(image))
  } catch {
    return undefined
  }
}

/** The text written for an image: the entry as given, normalised (registry:port kept, tag and digest kept). */
export function imageText(spec: ImageSpec): string {
  return formatImageReference(spec.ref)
}

type Path = (string | number)[]

const POD_SPEC_PATHS: Record<string, Path> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec']
}

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const

/** Where the pod spec of a kind lives (undefined for kinds without one). */
export function podSpecPath(kind: string): Path | undefined {
  return POD_SPEC_PATHS[kind]
}

function getIn(value: unknown, path: Path): unknown {
  let node = value
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string | number, unknown>)[key]
  }
  return node
}

export interface ImageSlot {
  /** Path of the `image` field from the document root. */
  path: Path
  /** e.g. "containers[web]" */
  container: string
  image: string
}

/** Every container image field of an object (init, regular and ephemeral containers). */
export function imageSlots(object: unknown): ImageSlot[] {
  const kind = (object as { kind?: unknown } | null)?.kind
  if (typeof kind !== 'string') return []
  const base = podSpecPath(kind)
  if (!base) return []
  const slots: ImageSlot[] = []
  for (const list of CONTAINER_LISTS) {
    const containers = getIn(object, [...base, list])
    if (!Array.isArray(containers)) continue
    containers.forEach((c: unknown, i) => {
      const image = (c as { image?: unknown } | null)?.image
      if (typeof image !== 'string') return
      const name = (c as { name?: unknown }).name
      slots.push({
        path: [...base, list, i, 'image'],
        container: `${list}[${typeof name === 'string' ? name : i}]`,
        image
      })
    })
  }
  return slots
}

export interface Substitution {
  /** kind/namespace/name of the object */
  object: string
  container: string
  from: string
  to: string
}

export interface SubstitutionResult {
  substitutions: Substitution[]
  /** `images` entries that matched no container. */
  unmatched: string[]
}

/**
 * Replaces, in place, every container image whose repository (registry host and port included,
 * docker.io short names normalised) equals one of `images`; the whole reference is replaced.
 */
export function substituteImages(
  objects: { object: Record<string, unknown>; id: string }[],
  images: ImageSpec[]
): SubstitutionResult {
  const used = new Set<string>()
  const substitutions: Substitution[] = []
  for (const { object, id } of objects) {
    for (const slot of imageSlots(object)) {
      const key = manifestImageKey(slot.image)
      const spec = images.find((s) => s.key === key)
      if (!spec) continue
      used.add(spec.input)
      const to = imageText(spec)
      const parent = getIn(object, slot.path.slice(0, -1)) as Record<string, unknown>
      parent['image'] = to
      substitutions.push({ object: id, container: slot.container, from: slot.image, to })
    }
  }
  return { substitutions, unmatched: images.filter((s) => !used.has(s.input)).map((s) => s.input) }
}

/** The old → new map of a set of substitutions (old manifest value → new reference). */
export function imageMap(substitutions: { from: string; to: string }[]): Record<string, string> {
  const map: Record<string, string> = {}
  for (const s of substitutions) map[s.from] = s.to
  return map
}
