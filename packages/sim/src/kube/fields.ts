/**
 * Field ownership for server-side apply: field sets in the `FieldsV1` shape (`f:<name>`, `k:{<key>}` for
 * associative-list items, `.` for the item itself), the apply merge (associative lists merged by key, other
 * lists atomic), conflicts between field managers, and the ownership transfer of Update operations.
 */

export type Obj = Record<string, unknown>

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T)
}

const NAME_KEYED = new Set([
  'containers',
  'initContainers',
  'ephemeralContainers',
  'volumes',
  'imagePullSecrets',
  'env',
  'hostAliases',
  'volumeClaimTemplates'
])

/** The merge key of a list field, or undefined for an atomic list. */
export function listKeys(field: string, items: unknown[]): string[] | undefined {
  if (items.length === 0 || !items.every(isObj)) return undefined
  const all = (k: string): boolean => items.every((i) => i[k] !== undefined)
  if (field === 'hostAliases') return all('ip') ? ['ip'] : undefined
  if (NAME_KEYED.has(field)) return all('name') ? ['name'] : undefined
  if (field === 'volumeMounts') return all('mountPath') ? ['mountPath'] : undefined
  if (field === 'conditions') return all('type') ? ['type'] : undefined
  if (field === 'ports') {
    if (all('containerPort')) return ['containerPort', 'protocol']
    if (all('port')) return ['port', 'protocol']
  }
  return undefined
}

function keyOf(item: Obj, keys: string[]): string {
  const k: Obj = {}
  for (const name of [...keys].sort()) {
    const v = item[name] ?? (name === 'protocol' ? 'TCP' : undefined)
    if (v !== undefined) k[name] = v
  }
  return `k:${JSON.stringify(k)}`
}

const META_SKIP = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generateName'
])

/** Path (JSON of segments) → JSON of the leaf value ('' for item markers). */
export type Flat = Map<string, string>

/** Flattens the owned part of an object: everything but apiVersion/kind, identity metadata and (unless `status`) status. */
export function flatten(obj: Obj, part: 'main' | 'status' = 'main'): Flat {
  const out: Flat = new Map()
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue
    if ((k === 'status') !== (part === 'status')) continue
    if (k === 'metadata' && isObj(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (META_SKIP.has(mk) || mv === undefined) continue
        walk(mv, ['f:metadata', `f:${mk}`], mk, out)
      }
      continue
    }
    walk(v, [`f:${k}`], k, out)
  }
  return out
}

function walk(v: unknown, path: string[], field: string, out: Flat): void {
  if (v === undefined) return
  if (isObj(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined)
    if (entries.length === 0) out.set(JSON.stringify(path), '{}')
    for (const [k, x] of entries) walk(x, [...path, `f:${k}`], k, out)
    return
  }
  if (Array.isArray(v)) {
    const keys = listKeys(field, v)
    if (!keys) {
      out.set(JSON.stringify(path), JSON.stringify(v))
      return
    }
    for (const item of v as Obj[]) {
      const p = [...path, keyOf(item, keys)]
      out.set(JSON.stringify(p), '')
      for (const [k, x] of Object.entries(item)) walk(x, [...p, `f:${k}`], k, out)
    }
    return
  }
  out.set(JSON.stringify(path), JSON.stringify(v))
}

export function toFieldsV1(paths: Iterable<string>): Obj {
  const root: Obj = {}
  for (const p of paths) {
    const segs = JSON.parse(p) as string[]
    let node = root
    for (const s of segs) {
      node = (node[s] ??= {}) as Obj
    }
    if (segs[segs.length - 1]?.startsWith('k:')) node['.'] = {}
  }
  return root
}

export function fromFieldsV1(fv: unknown): Set<string> {
  const out = new Set<string>()
  const rec = (node: Obj, path: string[]): void => {
    const keys = Object.keys(node)
    if (keys.length === 0 && path.length > 0) out.add(JSON.stringify(path))
    for (const k of keys) {
      if (k === '.') {
        out.add(JSON.stringify(path))
        continue
      }
      const child = node[k]
      rec(isObj(child) ? child : {}, [...path, k])
    }
  }
  if (isObj(fv)) rec(fv, [])
  return out
}

/** `.spec.template.spec.containers[name="app"].image` */
export function humanPath(p: string): string {
  let out = ''
  for (const s of JSON.parse(p) as string[]) {
    if (s.startsWith('f:')) out += `.${s.slice(2)}`
    else if (s.startsWith('k:')) {
      const k = JSON.parse(s.slice(2)) as Obj
      out += `[${Object.entries(k)
        .map(([a, b]) => `${a}=${JSON.stringify(b)}`)
        .join(',')}]`
    }
  }
  return out
}

function findItem(list: unknown[], seg: string): number {
  const want = JSON.parse(seg.slice(2)) as Obj
  const keys = Object.keys(want)
  return list.findIndex(
    (i) => isObj(i) && keyOf(i, keys.length ? keys : ['name']) === `k:${JSON.stringify(want)}`
  )
}

/** Deletes the field at `p` from `obj` (a list item for a `k:` path). */
export function deleteAt(obj: Obj, p: string): void {
  const segs = JSON.parse(p) as string[]
  let node: unknown = obj
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as string
    const last = i === segs.length - 1
    if (s.startsWith('f:')) {
      if (!isObj(node)) return
      if (last) {
        delete node[s.slice(2)]
        return
      }
      node = node[s.slice(2)]
    } else if (s.startsWith('k:')) {
      if (!Array.isArray(node)) return
      const idx = findItem(node, s)
      if (idx < 0) return
      if (last) {
        node.splice(idx, 1)
        return
      }
      node = node[idx]
    } else return
  }
}

/** The apply merge: maps recursively, associative lists by key, everything else replaced by the config. */
export function mergeApply(live: unknown, config: unknown, field = ''): unknown {
  if (isObj(config)) {
    const base: Obj = isObj(live) ? { ...live } : {}
    for (const [k, v] of Object.entries(config)) {
      if (v === null) {
        delete base[k]
        continue
      }
      base[k] = mergeApply(base[k], v, k)
    }
    return base
  }
  if (Array.isArray(config)) {
    const keys = listKeys(field, config)
    if (keys && Array.isArray(live) && (live.length === 0 || listKeys(field, live))) {
      const out: unknown[] = (live as unknown[]).map((x) => clone(x))
      for (const item of config as Obj[]) {
        const k = keyOf(item, keys)
        const idx = out.findIndex((x) => isObj(x) && keyOf(x, keys) === k)
        if (idx >= 0) out[idx] = mergeApply(out[idx], item, '')
        else out.push(clone(item))
      }
      return out
    }
    return clone(config)
  }
  return config
}

/** A strategic-merge-patch-like merge (associative lists by key; `null` deletes). */
export const mergeStrategic = mergeApply

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch)
  const out: Obj = isObj(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: Obj
  subresource?: string
}

export interface Conflict {
  manager: string
  subresource?: string
  apiVersion: string
  path: string
}

interface Owner {
  entry: ManagedFieldsEntry
  fields: Set<string>
}

function owners(mf: unknown): Owner[] {
  if (!Array.isArray(mf)) return []
  return (mf as ManagedFieldsEntry[])
    .filter((e) => isObj(e) && typeof e.manager === 'string')
    .map((e) => ({ entry: e, fields: fromFieldsV1(e.fieldsV1) }))
}

function sameOwner(e: ManagedFieldsEntry, manager: string, op: string, sub?: string): boolean {
  return e.manager === manager && e.operation === op && (e.subresource ?? '') === (sub ?? '')
}

function build(list: Owner[]): ManagedFieldsEntry[] {
  return list
    .filter((o) => o.fields.size > 0)
    .map((o) => ({
      ...o.entry,
      fieldsV1: toFieldsV1([...o.fields].sort())
    }))
}

/**
 * Server-side apply of `config` onto `live` (undefined = create). Returns the merged object with new
 * managedFields, or the conflicts (when not forced).
 */
export function applyConfig(args: {
  live: Obj | undefined
  config: Obj
  manager: string
  force: boolean
  apiVersion: string
  now: string
}): { object: Obj; conflicts: [] } | { object?: undefined; conflicts: Conflict[] } {
  const { live, config, manager, force, apiVersion, now } = args
  const configFlat = flatten(config)
  const applied = new Set(configFlat.keys())
  const liveFlat = live ? flatten(live) : new Map<string, string>()
  const list = owners((live?.metadata as Obj | undefined)?.managedFields)
  const conflicts: Conflict[] = []
  for (const o of list) {
    if (sameOwner(o.entry, manager, 'Apply')) continue
    for (const p of applied) {
      if (!o.fields.has(p)) continue
      const cv = configFlat.get(p)
      if (cv === '' || cv === '{}') continue
      if (liveFlat.get(p) !== cv)
        conflicts.push({
          manager: o.entry.manager,
          subresource: o.entry.subresource,
          apiVersion: o.entry.apiVersion,
          path: p
        })
    }
  }
  if (conflicts.length > 0 && !force) return { conflicts }
  const forced = new Set(conflicts.map((c) => c.path))
  let mine = list.find((o) => sameOwner(o.entry, manager, 'Apply'))
  const previously = mine ? new Set(mine.fields) : new Set<string>()
  const cfgNoStatus: Obj = { ...config }
  delete cfgNoStatus.status
  const merged = mergeApply(live ? clone(live) : {}, cfgNoStatus) as Obj
  // fields this manager applied before but no longer does, owned by nobody else → removed
  const others = list.filter((o) => o !== mine)
  const removed = [...previously]
    .filter((p) => !applied.has(p) && !others.some((o) => o.fields.has(p)))
    .sort((a, b) => b.length - a.length)
  for (const p of removed) deleteAt(merged, p)
  for (const o of others) for (const p of forced) o.fields.delete(p)
  if (!mine) {
    mine = {
      entry: {
        manager,
        operation: 'Apply',
        apiVersion,
        time: now,
        fieldsType: 'FieldsV1',
        fieldsV1: {}
      },
      fields: new Set()
    }
    list.push(mine)
  }
  mine.fields = applied
  mine.entry = { ...mine.entry, apiVersion, time: now }
  const meta = isObj(merged.metadata) ? merged.metadata : {}
  merged.metadata = meta
  meta.managedFields = build(list)
  return { object: merged, conflicts: [] }
}

/** Ownership after a non-apply write (create/update/patch): changed fields move to `manager`. */
export function updateOwnership(args: {
  before: Obj | undefined
  after: Obj
  manager: string
  apiVersion: string
  subresource?: string
  now: string
}): void {
  const { before, after, manager, apiVersion, subresource, now } = args
  const part = subresource === 'status' ? 'status' : 'main'
  const oldFlat = before ? flatten(before, part) : new Map<string, string>()
  const newFlat = flatten(after, part)
  const changed = [...newFlat].filter(([k, v]) => oldFlat.get(k) !== v).map(([k]) => k)
  const gone = [...oldFlat.keys()].filter((k) => !newFlat.has(k))
  const list = owners((before?.metadata as Obj | undefined)?.managedFields)
  for (const o of list) {
    for (const p of gone) o.fields.delete(p)
    if (!sameOwner(o.entry, manager, 'Update', subresource))
      for (const p of changed) o.fields.delete(p)
  }
  if (changed.length > 0) {
    let mine = list.find((o) => sameOwner(o.entry, manager, 'Update', subresource))
    if (!mine) {
      mine = {
        entry: {
          manager,
          operation: 'Update',
          apiVersion,
          time: now,
          fieldsType: 'FieldsV1',
          fieldsV1: {},
          ...(subresource ? { subresource } : {})
        },
        fields: new Set()
      }
      list.push(mine)
    }
    for (const p of changed) mine.fields.add(p)
    mine.entry = { ...mine.entry, time: now }
  }
  const meta = isObj(after.metadata) ? after.metadata : {}
  after.metadata = meta
  const built = build(list)
  if (built.length) meta.managedFields = built
  else delete meta.managedFields
}

export function conflictMessage(conflicts: Conflict[]): string {
  const byManager = new Map<string, Conflict[]>()
  for (const c of conflicts) {
    const who = `"${c.manager}"${c.subresource ? ` with subresource "${c.subresource}"` : ''} using ${c.apiVersion}`
    byManager.set(who, [...(byManager.get(who) ?? []), c])
  }
  const n = conflicts.length
  const head = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `
  const parts = [...byManager].map(([who, cs]) =>
    cs.length === 1
      ? `conflict with ${who}: ${humanPath((cs[0] as Conflict).path)}`
      : `conflicts with ${who}:\n${cs.map((c) => `- ${humanPath(c.path)}`).join('\n')}`
  )
  return head + parts.join('\n')
}

/** A JSON value as text: strings as is, numbers/booleans rendered, null/undefined → fallback, else JSON. */
export function str(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (v === undefined || v === null) return fallback
  return JSON.stringify(v)
}
