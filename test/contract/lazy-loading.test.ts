import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'

// Issue 15's start-up rules, checked over the sources (npm run bench measures what they buy):
// - the product packages load the AWS SDK, the EKS token signer and the YAML parser on first use, never on import,
//   so that an entry point checking its inputs (and render-task-def rendering a file) loads none of them;
// - every action's index.ts checks its inputs before it imports the module that does the work.
const root = resolve(import.meta.dirname, '../..')
const PRODUCT = ['action-kit', 'aws', 'oci', 'ecr', 'ecs', 'kube']
const ACTIONS = readdirSync(join(root, 'actions')).filter((name) =>
  readdirSync(join(root, 'actions', name)).includes('action.yml')
)

/** Packages whose code costs more to load than an action's whole validation path. */
const HEAVY = /^(?:@aws-sdk\/|@smithy\/(?!types$)|@aws-crypto\/|yaml$|jsonc-parser$)/

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : []
  )
}

/** Value imports and re-exports (not `import type`) with their specifiers. */
function valueImports(source: string): string[] {
  const found: string[] = []
  const patterns = [
    /^\s*import\s+(?!type\s)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?!type\s)(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+['"]([^'"]+)['"]/gm
  ]
  for (const pattern of patterns)
    for (const m of source.matchAll(pattern)) found.push(m[1] as string)
  return found
}

/**
 * Lines (1-based) where `source` refers to the global `fetch`: any identifier `fetch` that is not a property name
 * or member access, in a file that declares no binding of that name itself.
 */
function globalFetchUses(file: string, source = readFileSync(file, 'utf8')): number[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true)
  const references: ts.Identifier[] = []
  let declaresFetch = false
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === 'fetch') {
      const parent = node.parent
      const isName =
        (parent as { name?: ts.Node }).name === node && !ts.isShorthandPropertyAssignment(parent)
      if (
        isName &&
        (ts.isVariableDeclaration(parent) ||
          ts.isParameter(parent) ||
          ts.isBindingElement(parent) ||
          ts.isFunctionDeclaration(parent) ||
          ts.isImportSpecifier(parent))
      )
        declaresFetch = true
      else if (!isName) references.push(node)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  if (declaresFetch) return []
  return [
    ...new Set(references.map((id) => sf.getLineAndCharacterOfPosition(id.getStart()).line + 1))
  ]
}

describe('start-up rules', () => {
  it('no product package imports the AWS SDK, the signer, yaml or jsonc-parser at module level', () => {
    const offenders: string[] = []
    for (const name of PRODUCT) {
      for (const file of tsFiles(join(root, 'packages', name, 'src'))) {
        for (const spec of valueImports(readFileSync(file, 'utf8'))) {
          if (HEAVY.test(spec)) offenders.push(`${relative(root, file)} imports ${spec}`)
        }
      }
    }
    expect(offenders).toEqual([])
  })

  it('the rule above sees a static SDK import and lets type imports and import() through', () => {
    expect(valueImports("import { ECSClient } from '@aws-sdk/client-ecs'\n")).toEqual([
      '@aws-sdk/client-ecs'
    ])
    expect(valueImports("import type { Service } from '@aws-sdk/client-ecs'\n")).toEqual([])
    expect(valueImports("const m = await import('@aws-sdk/client-ecs')\n")).toEqual([])
  })

  it('each product package is free of import-time side effects, as its package.json declares', () => {
    for (const name of PRODUCT) {
      const manifest = JSON.parse(
        readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')
      ) as { sideEffects?: unknown }
      expect({ name, sideEffects: manifest.sideEffects }).toEqual({ name, sideEffects: false })
      for (const file of tsFiles(join(root, 'packages', name, 'src'))) {
        const source = readFileSync(file, 'utf8')
        // a bare `import './x.js'` or a top-level call would be dropped or reordered by the bundler
        expect({ file: relative(root, file), bare: /^import\s+['"]/m.test(source) }).toEqual({
          file: relative(root, file),
          bare: false
        })
        expect({
          file: relative(root, file),
          call: /^(?:await\s+)?[A-Za-z_$][\w$.]*\(/m.test(source)
        }).toEqual({ file: relative(root, file), call: false })
      }
    }
  })

  it("shipped code never uses the global fetch, not even as a default (its first use costs ~0.2 s: action-kit's httpFetch instead)", () => {
    const files = [
      ...PRODUCT.flatMap((name) => tsFiles(join(root, 'packages', name, 'src'))),
      ...ACTIONS.flatMap((name) => tsFiles(join(root, 'actions', name, 'src')))
    ]
    const offenders = files.flatMap((file) =>
      globalFetchUses(file).map((line) => `${relative(root, file)}:${line}`)
    )
    expect(offenders).toEqual([])
  })

  it('the global-fetch check sees a default, a call and a type, but not a property or a local binding', () => {
    const uses = (source: string): number[] => globalFetchUses('probe.ts', source)
    expect(uses('const send = options.fetch ?? fetch')).toEqual([1])
    expect(uses('await fetch(url)')).toEqual([1])
    expect(uses('type F = typeof fetch')).toEqual([1])
    expect(uses('send({ fetch })')).toEqual([1])
    expect(
      uses('const deps = { fetch: (u: string) => get(u) }\nctx.fetch(u)\n// fetch(u)\nrun("fetch")')
    ).toEqual([])
    expect(uses('function f(fetch: F) {\n  return fetch(u)\n}')).toEqual([])
  })

  it.each(ACTIONS)('%s: index.ts checks the inputs before importing main.js', (name) => {
    const source = readFileSync(join(root, 'actions', name, 'src', 'index.ts'), 'utf8')
    expect(valueImports(source)).not.toContain('./main.js')
    const check = source.indexOf('checkedInputs(')
    // (build-tag-push's post step imports main.js first: it has no inputs to check)
    const load = source.lastIndexOf("import('./main.js')")
    expect(check).toBeGreaterThan(-1)
    expect(load).toBeGreaterThan(check)
  })

  it.each(ACTIONS)('%s: inputs.ts imports nothing heavy', (name) => {
    const source = readFileSync(join(root, 'actions', name, 'src', 'inputs.ts'), 'utf8')
    expect(valueImports(source).filter((spec) => HEAVY.test(spec))).toEqual([])
  })
})
