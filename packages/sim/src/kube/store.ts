/** The object store of one simulated cluster: resourceVersions, watch history, selectors. */
import { randomUUID } from 'node:crypto'
import { apiVersionOf, type ResourceType } from './resources.js'
import { clone, isObj, type Obj, str } from './fields.js'

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  rv: number
  t: ResourceType
  object: Obj
}

export interface Watcher {
  t: ResourceType
  namespace?: string
  match: (o: Obj) => boolean
  send: (e: WatchEvent) => void
  close: (mode: 'close' | 'reset') => void
}

export const HISTORY_LIMIT = 2000

export function meta(o: Obj): Obj {
  if (!isObj(o.metadata)) o.metadata = {}
  return o.metadata as Obj
}

export function nameOf(o: Obj): string {
  return str(meta(o).name ?? '')
}

export function nsOf(o: Obj): string | undefined {
  const n = meta(o).namespace
  return typeof n === 'string' ? n : undefined
}

export class Store {
  private objects = new Map<string, Obj>()
  rv = 1
  history: WatchEvent[] = []
  /** the lowest resourceVersion a watch may resume from */
  oldestRv = 1
  watchers = new Set<Watcher>()

  constructor(private readonly nowIso: () => string) {}

  key(t: ResourceType, ns: string | undefined, name: string): string {
    return `${t.group}/${t.resource}/${t.namespaced ? (ns ?? '') : ''}/${name}`
  }

  get(t: ResourceType, ns: string | undefined, name: string): Obj | undefined {
    const o = this.objects.get(this.key(t, ns, name))
    return o ? clone(o) : undefined
  }

  list(t: ResourceType, ns?: string): Obj[] {
    const prefix = `${t.group}/${t.resource}/`
    const out: Obj[] = []
    for (const [k, o] of this.objects) {
      if (!k.startsWith(prefix)) continue
      if (ns !== undefined && t.namespaced && nsOf(o) !== ns) continue
      out.push(o)
    }
    return out
      .sort((a, b) =>
        `${nsOf(a) ?? ''}/${nameOf(a)}`.localeCompare(`${nsOf(b) ?? ''}/${nameOf(b)}`)
      )
      .map((o) => clone(o))
  }

  /** Every object (any type) — for garbage collection and namespace deletion. */
  all(): Array<{ key: string; o: Obj }> {
    return [...this.objects].map(([key, o]) => ({ key, o }))
  }

  /** Stores `o` (create or replace), stamping identity and resourceVersion; emits the watch event. */
  put(t: ResourceType, o: Obj): Obj {
    const m = meta(o)
    const k = this.key(t, nsOf(o), nameOf(o))
    const existed = this.objects.has(k)
    if (!existed) {
      m.uid ??= randomUUID()
      m.creationTimestamp ??= this.nowIso()
    }
    if (!t.namespaced) delete m.namespace
    o.apiVersion = apiVersionOf(t)
    o.kind = t.kind
    m.resourceVersion = String(++this.rv)
    this.objects.set(k, clone(o))
    this.emit({ type: existed ? 'MODIFIED' : 'ADDED', rv: this.rv, t, object: clone(o) })
    return o
  }

  remove(t: ResourceType, ns: string | undefined, name: string): Obj | undefined {
    const k = this.key(t, ns, name)
    const o = this.objects.get(k)
    if (!o) return undefined
    this.objects.delete(k)
    meta(o).resourceVersion = String(++this.rv)
    this.emit({ type: 'DELETED', rv: this.rv, t, object: clone(o) })
    return o
  }

  private emit(e: WatchEvent): void {
    this.history.push(e)
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT)
      this.oldestRv = (dropped[dropped.length - 1] as WatchEvent).rv
    }
    for (const w of this.watchers) {
      if (w.t !== e.t && !(w.t.group === e.t.group && w.t.resource === e.t.resource)) continue
      if (w.namespace !== undefined && nsOf(e.object) !== w.namespace) continue
      if (!w.match(e.object)) continue
      w.send(e)
    }
  }

  /** Forget the watch history: every resume from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.history = []
    this.oldestRv = this.rv
  }
}

// ---- selectors -------------------------------------------------------------------------------

type Req = (labels: Record<string, string>) => boolean

export function parseLabelSelector(s: string | null): Req {
  if (!s) return () => true
  const reqs: Req[] = []
  // split on commas not inside parentheses
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw))) {
      const key = m[1] as string
      const values = (m[3] as string).split(',').map((v) => v.trim())
      const neg = m[2] === 'notin'
      reqs.push((l) =>
        neg ? !(key in l) || !values.includes(l[key]!) : values.includes(l[key] ?? '\u0000')
      )
    } else if ((m = /^([^\s!=]+)\s*(!=|==|=)\s*(\S*)$/.exec(raw))) {
      const key = m[1] as string
      const value = m[3] as string
      reqs.push(m[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value)
    } else if ((m = /^!\s*(\S+)$/.exec(raw))) {
      const key = m[1] as string
      reqs.push((l) => !(key in l))
    } else {
      reqs.push((l) => raw in l)
    }
  }
  return (l) => reqs.every((r) => r(l))
}

export function labelsOf(o: Obj): Record<string, string> {
  const l = meta(o).labels
  return isObj(l) ? (l as Record<string, string>) : {}
}

function getPath(o: unknown, path: string): unknown {
  let cur = o
  for (const p of path.split('.')) {
    if (!isObj(cur)) return undefined
    cur = cur[p]
  }
  return cur
}

export function parseFieldSelector(s: string | null): (o: Obj) => boolean {
  if (!s) return () => true
  const reqs = s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((raw) => {
      const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(raw)
      if (!m) throw new Error(`invalid field selector: "${raw}"`)
      return { path: (m[1] as string).trim(), neg: m[2] === '!=', value: (m[3] as string).trim() }
    })
  return (o) =>
    reqs.every((r) => {
      const v = getPath(o, r.path)
      const text = str(v)
      return r.neg ? text !== r.value : text === r.value
    })
}

/** Does a LabelSelector object (matchLabels/matchExpressions) select these labels? */
export function selectorMatches(sel: unknown, labels: Record<string, string>): boolean {
  if (!isObj(sel)) return false
  const ml = isObj(sel.matchLabels) ? (sel.matchLabels as Record<string, string>) : {}
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false
  for (const e of Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) {
    if (!isObj(e)) continue
    const key = String(e.key)
    const values = Array.isArray(e.values) ? (e.values as string[]) : []
    switch (e.operator) {
      case 'In':
        if (!values.includes(labels[key] ?? '\u0000')) return false
        break
      case 'NotIn':
        if (key in labels && values.includes(labels[key]!)) return false
        break
      case 'Exists':
        if (!(key in labels)) return false
        break
      case 'DoesNotExist':
        if (key in labels) return false
        break
    }
  }
  return (
    Object.keys(ml).length > 0 ||
    (Array.isArray(sel.matchExpressions) && sel.matchExpressions.length > 0)
  )
}
