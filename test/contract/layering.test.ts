import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

// DESIGN.md's import rules, checked over every import of shipped code and of the simulator.
const root = resolve(import.meta.dirname, '../..')

/** Which of our packages each package may import (actions may import every product package). */
const ALLOWED: Record<string, readonly string[]> = {
  'action-kit': [],
  aws: ['action-kit'],
  oci: ['action-kit'],
  ecr: ['aws', 'oci', 'action-kit'],
  ecs: ['aws', 'oci', 'action-kit', 'ecr'],
  kube: ['aws', 'oci', 'action-kit'],
  sim: []
}
const PRODUCT = ['action-kit', 'aws', 'oci', 'ecr', 'ecs', 'kube']

/** The unit a file belongs to: `pkg:<name>` or `action:<name>`, or undefined outside shipped code. */
function unitOf(file: string): string | undefined {
  const m = /^(packages|actions)\/([^/]+)\/src\//.exec(file)
  if (!m) return undefined
  return m[1] === 'packages' ? `pkg:${m[2]}` : `action:${m[2]}`
}

/** Every module specifier of a source text: static imports, re-exports and dynamic import(). */
function specifiers(source: string): string[] {
  const found: string[] = []
  const patterns = [
    /^\s*import\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
  ]
  for (const pattern of patterns)
    for (const m of source.matchAll(pattern)) found.push(m[1] as string)
  return found
}

/** The unit an import specifier reaches, resolving relative paths against the importing file. */
function targetOf(file: string, specifier: string): string | undefined {
  const alias = /^@shipline\/([^/]+)/.exec(specifier)
  if (alias) return `pkg:${alias[1]}`
  if (!specifier.startsWith('.')) return undefined
  const target = relative(root, resolve(root, dirname(file), specifier))
  const m = /^(packages|actions)\/([^/]+)\//.exec(target)
  if (!m) return 'outside'
  return m[1] === 'packages' ? `pkg:${m[2]}` : `action:${m[2]}`
}

/** The forbidden imports of one file, as `file → specifier (reason)` lines. */
function violations(file: string, source: string): string[] {
  const from = unitOf(file)
  if (!from) return []
  const out: string[] = []
  for (const specifier of specifiers(source)) {
    const to = targetOf(file, specifier)
    if (!to || to === from) continue
    const [kind, name] = from.split(':') as [string, string]
    const [toKind, toName] = to.split(':') as [string, string]
    let ok: boolean
    if (to === 'outside') ok = false
    else if (toKind === 'action') ok = false
    else if (kind === 'action') ok = PRODUCT.includes(toName)
    else ok = (ALLOWED[name] ?? []).includes(toName)
    if (!ok) out.push(`${file} → ${specifier} (${from} may not import ${to})`)
  }
  return out
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) out.push(...sourceFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

describe('the layering rules catch forbidden imports', () => {
  it.each([
    ['packages/aws/src/session.ts', "import { parseEcrRegistry } from '@shipline/ecr'"],
    ['packages/oci/src/docker-cli.ts', "import { awsErrorCode } from '@shipline/aws'"],
    ['packages/action-kit/src/inputs.ts', "import type { Docker } from '@shipline/oci'"],
    ['packages/aws/src/session.ts', "import { scan } from '../../ecr/src/scan-wait.js'"],
    ['packages/ecr/src/scan-wait.ts', "const m = await import('@shipline/ecs')"],
    ['packages/ecs/src/index.ts', "export * from '@shipline/kube'"],
    ['packages/kube/src/apply.ts', "import { x } from '@shipline/ecs'"],
    ['actions/deploy-ecs/src/main.ts', "import { startStack } from '@shipline/sim'"],
    [
      'actions/deploy-ecs/src/main.ts',
      "import { startStack } from '../../../packages/sim/src/stack.js'"
    ],
    [
      'packages/sim/src/stack.ts',
      "import { parseImageReference } from '../../oci/src/image-reference.js'"
    ],
    ['packages/ecr/src/x.ts', "import { run } from '../../../actions/scan-gate/src/main.js'"]
  ])('%s: %s', (file, source) => {
    expect(violations(file, source)).toHaveLength(1)
  })

  it('allows what DESIGN.md allows', () => {
    expect(
      violations('packages/ecs/src/a.ts', "import { b } from '@shipline/ecr'\nimport './c.js'")
    ).toEqual([])
    expect(
      violations('actions/scan-gate/src/main.ts', "import { x } from '@shipline/ecr'")
    ).toEqual([])
    expect(violations('packages/ecr/src/a.ts', "import type { T } from '@shipline/aws'")).toEqual(
      []
    )
  })
})

describe('the tree keeps the layering rules', () => {
  const files = [...sourceFiles('packages'), ...sourceFiles('actions')].filter((f) => unitOf(f))

  it('reads every shipped source file', () => {
    expect(files.length).toBeGreaterThan(40)
  })

  it('has no forbidden import', () => {
    const found = files.flatMap((file) => violations(file, readFileSync(join(root, file), 'utf8')))
    expect(found).toEqual([])
  })
})
