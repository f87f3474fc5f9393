import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { InputError, lineColumn, readInputFile, resolvePathInput, yaml } from '@shipline/action-kit'

export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; [key: string]: unknown }
  [key: string]: unknown
}

export interface LoadedObject {
  object: KubeObject
  /** Workspace-relative file it came from, with the document index. */
  source: string
}

const YAML_FILE = /\.ya?ml$/i

/** Converts a glob (`*`, `**`, `?`, `{a,b}`) to a RegExp over "/"-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') {
          i++
          re += '(?:.*/)?'
        } else re += '.*'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '{') {
      const end = glob.indexOf('}', i)
      if (end < 0) re += '\\{'
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((p) => p.replace(/[.+^$()|[\]\\]/g, '\\$&'))
          .join('|')})`
        i = end
      }
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : 1
  )) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path, out)
    else if (entry.isFile() && YAML_FILE.test(entry.name)) out.push(path)
  }
}

/** Every .yaml/.yml file under a directory, sorted, recursively. */
export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = []
  walk(dir, out)
  return out
}

/**
 * Expands `manifests` entries (files, directories, globs) to workspace-confined YAML files, in the order given,
 * each file once. A pattern or path that finds nothing is an error naming the input.
 */
export function expandManifestPaths(
  input: string,
  patterns: string[],
  env: NodeJS.ProcessEnv = process.env
): string[] {
  const workspace = realpathSync(env['GITHUB_WORKSPACE'] || process.cwd())
  const files: string[] = []
  const add = (file: string) => {
    if (!files.includes(file)) files.push(file)
  }
  for (const pattern of patterns) {
    if (!/[*?{]/.test(pattern)) {
      const guess = isAbsolute(pattern) ? pattern : resolve(workspace, pattern)
      const isDir = existsSync(guess) && statSync(guess).isDirectory()
      const path = resolvePathInput(input, pattern, isDir ? 'directory' : 'file', env)
      if (isDir) {
        const found = yamlFilesUnder(path)
        if (!found.length) {
          throw new InputError(
            input,
            `directory "${pattern}" contains no .yaml or .yml file`,
            'Point it at the folder holding the rendered manifests.'
          )
        }
        found.forEach(add)
      } else add(path)
      continue
    }
    if (isAbsolute(pattern) || pattern.split('/').includes('..')) {
      throw new InputError(
        input,
        `glob "${pattern}" must be relative to the workspace and may not contain ".."`,
        'Write globs relative to GITHUB_WORKSPACE, e.g. k8s/**/*.yaml.'
      )
    }
    const parts = pattern.split('/')
    const staticParts: string[] = []
    for (const part of parts) {
      if (/[*?{]/.test(part)) break
      staticParts.push(part)
    }
    const base = resolve(workspace, ...staticParts)
    const re = globToRegExp(pattern)
    let matched = 0
    try {
      if (statSync(base).isDirectory()) {
        for (const file of yamlFilesUnder(base)) {
          const rel = relative(workspace, file).split(sep).join('/')
          if (!re.test(rel)) continue
          const real = realpathSync(file)
          const back = relative(workspace, real)
          if (back.startsWith('..') || isAbsolute(back)) continue
          matched++
          add(real)
        }
      }
    } catch {
      // base missing: reported below
    }
    if (!matched) {
      throw new InputError(
        input,
        `glob "${pattern}" matched no .yaml or .yml file in the workspace`,
        'Check the pattern (relative to GITHUB_WORKSPACE) and that an earlier step rendered the manifests.'
      )
    }
  }
  return files
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Parses one manifest file (multi-document YAML; `kind: List` flattened); every document must be an object. */
export function parseManifestText(input: string, shownAs: string, text: string): LoadedObject[] {
  const docs = yaml.parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true })
  if (!Array.isArray(docs)) {
    throw new InputError(input, `"${shownAs}" is not YAML`, 'Fix the file.')
  }
  const out: LoadedObject[] = []
  docs.forEach((doc, index) => {
    const error = doc.errors[0]
    if (error) {
      const { line, column } = lineColumn(text, error.pos[0])
      throw new InputError(
        input,
        `"${shownAs}" document ${index + 1}: invalid YAML at line ${line}, column ${column}: ${error.message.split('\n')[0]}`,
        'Fix the YAML syntax there.'
      )
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: 100 })
    } catch (e) {
      throw new InputError(
        input,
        `"${shownAs}" document ${index + 1}: YAML refused (${e instanceof Error ? e.message : String(e)})`,
        'Write the manifest without deeply nested aliases.'
      )
    }
    if (value === null || value === undefined) return
    const items =
      isRecord(value) && value['kind'] === 'List' && Array.isArray(value['items'])
        ? (value['items'] as unknown[])
        : [value]
    for (const item of items) {
      const where = `"${shownAs}" document ${index + 1}`
      out.push({ object: checkObject(input, where, item), source: `${shownAs}#${index + 1}` })
    }
  })
  return out
}

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

function checkObject(input: string, where: string, value: unknown): KubeObject {
  if (!isRecord(value)) {
    throw new InputError(input, `${where} is not a mapping`, 'Each document must be one object.')
  }
  const { apiVersion, kind, metadata } = value
  if (typeof apiVersion !== 'string' || !apiVersion) {
    throw new InputError(input, `${where} has no apiVersion`, 'Add apiVersion (e.g. apps/v1).')
  }
  if (typeof kind !== 'string' || !kind) {
    throw new InputError(input, `${where} has no kind`, 'Add kind (e.g. Deployment).')
  }
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string' || !metadata['name']) {
    const gen = isRecord(metadata) && typeof metadata['generateName'] === 'string'
    throw new InputError(
      input,
      `${where} (${kind}) has no metadata.name${gen ? ' (generateName cannot be applied)' : ''}`,
      'Server-side apply needs a fixed name: set metadata.name.'
    )
  }
  if (!NAME.test(metadata['name'])) {
    throw new InputError(
      input,
      `${where}: ${kind} name "${metadata['name']}" is not a valid Kubernetes name`,
      'Use lowercase letters, digits, "-" and "." (at most 253 characters).'
    )
  }
  const ns = metadata['namespace']
  if (ns !== undefined && (typeof ns !== 'string' || !NAMESPACE.test(ns))) {
    throw new InputError(
      input,
      `${where}: namespace "${typeof ns === 'string' ? ns : JSON.stringify(ns)}" is not a valid namespace name`,
      'Use a DNS label: lowercase letters, digits and "-" (at most 63).'
    )
  }
  return value as KubeObject
}

export function loadManifests(input: string, files: string[], workspace: string): LoadedObject[] {
  const out: LoadedObject[] = []
  for (const file of files) {
    const shownAs = relative(workspace, file).split(sep).join('/') || file
    out.push(...parseManifestText(input, shownAs, readInputFile(input, file, shownAs)))
  }
  return out
}

/** Kinds that are cluster-scoped (no namespace is added to them). Unknown kinds are asked of discovery. */
export const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
  'RuntimeClass',
  'Node'
])

/** Apply order: Namespaces, then CRDs, then everything else in manifest order (stable). */
export function applyOrder<T extends { object: { kind: string } }>(items: T[]): T[] {
  const rank = (kind: string): number =>
    kind === 'Namespace' ? 0 : kind === 'CustomResourceDefinition' ? 1 : 2
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => rank(a.item.object.kind) - rank(b.item.object.kind) || a.index - b.index)
    .map(({ item }) => item)
}

/** "kind/namespace/name" ("kind/name" for cluster-scoped objects). */
export function objectId(object: KubeObject): string {
  const ns = object.metadata.namespace
  return ns
    ? `${object.kind}/${ns}/${object.metadata.name}`
    : `${object.kind}/${object.metadata.name}`
}

/** The kubectl-style "deployment/web". */
export function shortId(object: { kind: string; metadata: { name: string } }): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name}`
}
