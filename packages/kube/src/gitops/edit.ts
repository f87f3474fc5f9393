/**
 * GitOps edits that keep every byte of a file except the values they change: the YAML is parsed only to find
 * node ranges, and new values are spliced into the original text (comments, order, quoting and indentation stay).
 */
import { yaml } from '@shipline/action-kit'
import type { Document, Pair, Scalar, YAMLMap } from 'yaml'
import { parseImageReference, repositoryUri } from '@shipline/oci'
import {
  type ImageSpec,
  imageSlots,
  imageText,
  manifestImageKey,
  repositoryKey
} from '../images.js'

export interface GitopsChange {
  file: string
  /** What was edited: "Deployment/web containers[web]", "kustomization images[app]", "values image.tag", "marker". */
  where: string
  from: string
  to: string
}

interface Splice {
  start: number
  end: number
  text: string
}

interface EditContext {
  text: string
  file: string
  images: ImageSpec[]
  used: Set<string>
  splices: Splice[]
  changes: GitopsChange[]
}

function applySplices(text: string, splices: Splice[]): string {
  let out = text
  for (const s of [...splices].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, s.start) + s.text + out.slice(s.end)
  }
  return out
}

/** A scalar written in the node's own quoting style; `forceQuote` for tags (never a number in Helm). */
function scalarText(node: Scalar | undefined, value: string, forceQuote: boolean): string {
  if (node?.type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`
  if (node?.type === 'QUOTE_DOUBLE' || forceQuote) return JSON.stringify(value)
  return value
}

function replaceScalar(
  ctx: EditContext,
  node: Scalar,
  value: string,
  where: string,
  forceQuote = false
): void {
  const from = String(node.value)
  if (from === value) return
  const range = node.range
  if (!range) return
  ctx.splices.push({ start: range[0], end: range[1], text: scalarText(node, value, forceQuote) })
  ctx.changes.push({ file: ctx.file, where, from, to: value })
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset)
  return nl < 0 ? text.length : nl
}

/** Inserts `key: "value"` as the last entry of a block map (same indentation as its first key). */
function insertPair(
  ctx: EditContext,
  map: YAMLMap,
  key: string,
  value: string,
  where: string
): void {
  const first = map.items[0]
  const last = map.items[map.items.length - 1]
  if (!first || !last || map.flow || !yaml.isScalar(first.key) || !first.key.range) return
  const indent = ' '.repeat(columnOf(ctx.text, first.key.range[0]))
  const lastNode = (last.value ?? last.key) as { range?: [number, number, number] } | null
  const end = lineEnd(ctx.text, lastNode?.range?.[1] ?? first.key.range[1])
  ctx.splices.push({ start: end, end, text: `\n${indent}${key}: ${JSON.stringify(value)}` })
  ctx.changes.push({ file: ctx.file, where, from: '', to: value })
}

/** Removes a `key: value` line of a block map. */
function removePair(ctx: EditContext, pair: Pair, where: string): void {
  const key = pair.key as Scalar | null
  const value = pair.value as Scalar | null
  if (!key?.range || !yaml.isScalar(value) || !value.range) return
  const start = ctx.text.lastIndexOf('\n', key.range[0] - 1)
  const end = lineEnd(ctx.text, value.range[1])
  ctx.splices.push({ start: start < 0 ? 0 : start, end, text: '' })
  ctx.changes.push({ file: ctx.file, where, from: String(value.value), to: '' })
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  const items: Pair[] = map.items
  return items.find((p) => yaml.isScalar(p.key) && p.key.value === key)
}

function scalarOf(map: YAMLMap, key: string): Scalar | undefined {
  const pair = pairOf(map, key)
  return pair && yaml.isScalar(pair.value) ? pair.value : undefined
}

function findSpec(ctx: EditContext, key: string | undefined): ImageSpec | undefined {
  if (!key) return undefined
  const spec = ctx.images.find((s) => s.key === key)
  if (spec) ctx.used.add(spec.input)
  return spec
}

/** Sets tag and digest fields of a map (kustomization entry or Helm image block). */
function setTagAndDigest(
  ctx: EditContext,
  map: YAMLMap,
  spec: ImageSpec,
  tagKey: string,
  where: string
): void {
  const tag = spec.ref.tag
  const digest = spec.ref.digest
  const tagPair = pairOf(map, tagKey)
  const digestPair = pairOf(map, 'digest')
  if (tag) {
    if (tagPair && yaml.isScalar(tagPair.value)) {
      replaceScalar(ctx, tagPair.value, tag, `${where}.${tagKey}`, true)
    } else if (!tagPair) insertPair(ctx, map, tagKey, tag, `${where}.${tagKey}`)
  } else if (tagPair && digest && tagKey === 'newTag') {
    removePair(ctx, tagPair, `${where}.${tagKey}`)
  }
  if (digest) {
    if (digestPair && yaml.isScalar(digestPair.value)) {
      replaceScalar(ctx, digestPair.value, digest, `${where}.digest`, true)
    } else if (!digestPair) insertPair(ctx, map, 'digest', digest, `${where}.digest`)
  } else if (digestPair && yaml.isScalar(digestPair.value) && digestPair.value.value) {
    removePair(ctx, digestPair, `${where}.digest`)
  }
}

function isKustomization(file: string, doc: Document): boolean {
  const base = file.split('/').pop() ?? ''
  if (/^kustomization\.ya?ml$/i.test(base) || base === 'Kustomization') return true
  const js = doc.toJS() as Record<string, unknown> | null
  return (
    !!js &&
    js['kind'] === 'Kustomization' &&
    String(js['apiVersion']).startsWith('kustomize.config.k8s.io')
  )
}

function editKustomization(ctx: EditContext, doc: Document): void {
  const images = doc.get('images', true)
  if (!yaml.isSeq(images)) return
  for (const item of images.items) {
    if (!yaml.isMap(item)) continue
    const name = scalarOf(item, 'name')
    const newName = scalarOf(item, 'newName')
    const target = newName ?? name
    if (!target) continue
    const spec = findSpec(ctx, manifestImageKey(String(target.value)))
    if (!spec) continue
    const where = `kustomization images[${typeof name?.value === 'string' ? name.value : ''}]`
    if (newName) replaceScalar(ctx, newName, repositoryUri(spec.ref), `${where}.newName`)
    setTagAndDigest(ctx, item, spec, 'newTag', where)
  }
}

function editWorkloads(ctx: EditContext, doc: Document): void {
  const js = doc.toJS() as unknown
  for (const slot of imageSlots(js)) {
    const spec = findSpec(ctx, manifestImageKey(slot.image))
    if (!spec) continue
    const node = doc.getIn(slot.path, true)
    if (!yaml.isScalar(node)) continue
    const meta = js as { kind: string; metadata?: { name?: string } }
    replaceScalar(
      ctx,
      node,
      imageText(spec),
      `${meta.kind}/${meta.metadata?.name ?? ''} ${slot.container}`
    )
  }
}

function editHelmValues(ctx: EditContext, doc: Document, keys: string[]): void {
  for (const dotted of keys) {
    const path = dotted.split('.')
    const node = doc.getIn(path, true)
    if (yaml.isScalar(node) && typeof node.value === 'string') {
      const spec = findSpec(ctx, manifestImageKey(node.value))
      if (spec) replaceScalar(ctx, node, imageText(spec), `values ${dotted}`)
      continue
    }
    if (!yaml.isMap(node)) continue
    const repository = scalarOf(node, 'repository') ?? scalarOf(node, 'name')
    if (!repository) continue
    const registry = scalarOf(node, 'registry')
    const full = registry
      ? `${String(registry.value)}/${String(repository.value)}`
      : String(repository.value)
    const spec = findSpec(ctx, manifestImageKey(full))
    if (!spec) continue
    setTagAndDigest(ctx, node, spec, 'tag', `values ${dotted}`)
  }
}

const MARKER = /(?:^|\s)shipline-image:\s*(\S+)/

/** Lines marked `# shipline-image: <repository>[:tag|:digest|:name]` (any file shape, like Flux setters). */
function editMarkers(ctx: EditContext, doc: Document): void {
  yaml.visit(doc, {
    Scalar: (_key, node) => {
      const match = MARKER.exec(node.comment ?? '')
      if (!match || typeof node.value !== 'string') return
      let name = match[1] as string
      let field: 'image' | 'tag' | 'digest' | 'name' = 'image'
      const suffix = /:(tag|digest|name)$/.exec(name)
      if (suffix) {
        field = suffix[1] as typeof field
        name = name.slice(0, -suffix[0].length)
      }
      let key: string | undefined
      try {
        key = repositoryKey(parseImageReference(name))
      } catch {
        return
      }
      const spec =
        findSpec(ctx, key) ??
        ctx.images.find((s) => s.ref.repository === name && (ctx.used.add(s.input), true))
      if (!spec) return
      const where = `marker ${match[1] as string}`
      if (field === 'image') replaceScalar(ctx, node, imageText(spec), where)
      else if (field === 'name') replaceScalar(ctx, node, repositoryUri(spec.ref), where)
      else if (field === 'tag' && spec.ref.tag) replaceScalar(ctx, node, spec.ref.tag, where, true)
      else if (field === 'digest' && spec.ref.digest)
        replaceScalar(ctx, node, spec.ref.digest, where, true)
    }
  })
}

export interface FileEditResult {
  text: string
  changes: GitopsChange[]
}

/**
 * Edits one YAML file: marker lines, kustomization `images:`, Helm values keys, and workload container images.
 * `used` collects the `images` entries that matched something.
 */
export function editGitopsFile(
  file: string,
  text: string,
  images: ImageSpec[],
  helmValuesKeys: string[],
  used: Set<string>
): FileEditResult {
  const docs = yaml.parseAllDocuments(text, { uniqueKeys: false })
  if (!Array.isArray(docs)) return { text, changes: [] }
  const ctx: EditContext = { text, file, images, used, splices: [], changes: [] }
  for (const doc of docs) {
    if (doc.errors.length) return { text, changes: [] }
    const before = ctx.splices.length
    editMarkers(ctx, doc)
    const marked = new Set(ctx.splices.slice(before).map((s) => s.start))
    const sub: EditContext = { ...ctx, splices: [], changes: [] }
    if (isKustomization(file, doc)) editKustomization(sub, doc)
    else {
      editWorkloads(sub, doc)
      if (helmValuesKeys.length) editHelmValues(sub, doc, helmValuesKeys)
    }
    // a marked line is edited once, by its marker
    sub.splices.forEach((s, i) => {
      if (marked.has(s.start)) return
      ctx.splices.push(s)
      const change = sub.changes[i]
      if (change) ctx.changes.push(change)
    })
  }
  // drop duplicate splices (the same node reached twice)
  const seen = new Set<string>()
  const splices = ctx.splices.filter((s) => {
    const k = `${s.start}:${s.end}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  return { text: applySplices(text, splices), changes: ctx.changes }
}
