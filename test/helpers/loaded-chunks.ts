/**
 * Which dist/_shared chunks a bundled action run loaded: run it with `env` (NODE_OPTIONS imports
 * record-imports.mjs), then read `loaded()`. `chunksContaining(marker)` names the chunks whose code includes a string, such
 * as an AWS service's protocol name, so that a test can say "this run never loaded the CodeDeploy client".
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { REPO_ROOT } from './runner.js'

const SHARED = join(REPO_ROOT, 'dist', '_shared')
const HOOK = pathToFileURL(join(REPO_ROOT, 'test', 'helpers', 'record-imports.mjs')).href

export interface ChunkRecorder {
  env: Record<string, string>
  /** File names (e.g. "212.index.js") of the dist/_shared files the run loaded. */
  loaded(): string[]
}

export function recordChunks(): ChunkRecorder {
  const file = join(mkdtempSync(join(tmpdir(), 'shipline-imports-')), 'imports.txt')
  return {
    env: { NODE_OPTIONS: `--import=${HOOK}`, SHIPLINE_RECORD_IMPORTS: file },
    loaded: () =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((url) => url.startsWith('file:'))
            .map((url) => fileURLToPath(url))
            .filter((path) => path.startsWith(`${SHARED}/`))
            .map((path) => basename(path))
        : []
  }
}

/** The dist/_shared chunk files whose code contains `marker`. */
export function chunksContaining(marker: string): string[] {
  return readdirSync(SHARED).filter(
    (name) => name.endsWith('.js') && readFileSync(join(SHARED, name), 'utf8').includes(marker)
  )
}
