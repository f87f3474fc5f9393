// Generates each action's inputs/outputs reference in docs/actions/<name>.md from actions/<name>/action.yml, between
// the markers below; everything outside them is hand-written and left alone.
//
//   node .github/scripts/action-docs.mjs           # rewrite the generated parts (adds them at the end when absent)
//   node .github/scripts/action-docs.mjs --check   # exit 1 when a page is stale or lacks the generated part
//   ... [--root <dir>]                              # another checkout (tests)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { parse } from 'yaml'

export const BEGIN = '<!-- action-docs: generated from action.yml by npm run docs; do not edit -->'
export const END = '<!-- /action-docs -->'

const cell = (text) =>
  String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .trim()
const code = (text) => (text === '' ? '`""`' : `\`${String(text).replace(/`/g, "'")}\``)

/** The generated Markdown (before formatting) for one action.yml text. */
export function reference(actionYml) {
  const doc = parse(actionYml) ?? {}
  const lines = ['## Inputs and outputs', '', `Generated from \`action.yml\`.`, '']
  const inputs = Object.entries(doc.inputs ?? {})
  lines.push('| Input | Required | Default | Description |', '| --- | --- | --- | --- |')
  for (const [name, input] of inputs)
    lines.push(
      `| \`${name}\` | ${input?.required === true ? 'yes' : 'no'} | ${
        input?.default === undefined ? '' : code(input.default)
      } | ${cell(input?.description)} |`
    )
  if (!inputs.length) lines.push('| (none) | | | |')
  const outputs = Object.entries(doc.outputs ?? {})
  lines.push('', '| Output | Description |', '| --- | --- |')
  for (const [name, output] of outputs) lines.push(`| \`${name}\` | ${cell(output?.description)} |`)
  if (!outputs.length) lines.push('| (none) | |')
  return lines.join('\n')
}

/** The page with its generated part replaced (or appended when it has none). */
export function withReference(page, generated) {
  const block = `${BEGIN}\n\n${generated}\n\n${END}`
  const start = page.indexOf(BEGIN)
  const end = page.indexOf(END)
  if (start >= 0 && end > start) return page.slice(0, start) + block + page.slice(end + END.length)
  return `${page.replace(/\s*$/, '')}\n\n${block}\n`
}

async function format(text, file) {
  const options = (await prettier.resolveConfig(file)) ?? {}
  return prettier.format(text, { ...options, filepath: file })
}

/** docs/aws-setup.md with each `<!-- iam-policy: <action> -->` block filled from docs/iam/<action>.json. */
export function withPolicies(page, policyOf) {
  return page.replace(
    /(<!-- iam-policy: ([a-z-]+) -->)[\s\S]*?(<!-- \/iam-policy -->)/g,
    (_match, begin, action, end) =>
      `${begin}\n\n\`\`\`json\n${policyOf(action).trim()}\n\`\`\`\n\n${end}`
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const check = args.includes('--check')
  const rootIndex = args.indexOf('--root')
  const root = rootIndex >= 0 ? args[rootIndex + 1] : '.'
  const names = readdirSync(join(root, 'actions'))
    .filter((name) => existsSync(join(root, 'actions', name, 'action.yml')))
    .sort()
  let stale = 0
  for (const name of names) {
    const file = join(root, 'docs/actions', `${name}.md`)
    if (!existsSync(file)) {
      console.warn(`docs/actions/${name}.md: no page yet (write it, then run npm run docs)`)
      continue
    }
    const page = readFileSync(file, 'utf8')
    const generated = reference(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8'))
    const next = await format(withReference(page, generated), file)
    if (next === page) continue
    if (check) {
      stale++
      console.error(
        `docs/actions/${name}.md: ${page.includes(BEGIN) ? 'the inputs/outputs reference is stale' : 'no generated inputs/outputs reference'}; run npm run docs`
      )
    } else {
      writeFileSync(file, next)
      console.log(`docs/actions/${name}.md: updated`)
    }
  }
  const setup = join(root, 'docs/aws-setup.md')
  if (existsSync(setup)) {
    const page = readFileSync(setup, 'utf8')
    const next = await format(
      withPolicies(page, (action) =>
        readFileSync(join(root, 'docs/iam', `${action}.json`), 'utf8')
      ),
      setup
    )
    if (next !== page) {
      if (check) {
        stale++
        console.error(
          'docs/aws-setup.md: the IAM policies differ from docs/iam/*.json; run npm run docs'
        )
      } else {
        writeFileSync(setup, next)
        console.log('docs/aws-setup.md: updated')
      }
    }
  }
  if (check) console.log(`action docs: ${names.length} action(s), ${stale} stale page(s)`)
  process.exit(stale ? 1 : 0)
}
