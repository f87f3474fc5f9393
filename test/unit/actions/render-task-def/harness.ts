/** Runs render-task-def's run() with fake AWS and file-writing deps, real INPUT_* parsing and real runner files. */
import { jest } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AwsAuthInputs } from '@shipline/aws'
import type { ImageReference } from '@shipline/oci'
import { getInputs } from '../../../../actions/render-task-def/src/inputs.js'
import {
  run,
  type RenderAws,
  type RenderDeps
} from '../../../../actions/render-task-def/src/main.js'
import { parseFileCommands, REPO_ROOT } from '../../../helpers/runner.js'

export const EXAMPLES = join(REPO_ROOT, 'examples/task-definitions')
export const DIGEST = `sha256:${'d'.repeat(64)}`
export const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com'

export interface FakeAws {
  describe?: (id: string) => Record<string, unknown>
  digests?: Record<string, string>
}

export interface RenderResult {
  exitCode: number
  errors: string[]
  notices: string[]
  written: Map<string, string>
  /** The single rendered document (throws when none was written). */
  doc(): Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] }
  outputs: Record<string, string>
  summary: string
  auth: AwsAuthInputs[]
  describes: string[]
  lookups: string[]
  workspace: string
}

const touched = new Set<string>()
const RUNNER_TEMP = mkdtempSync(join(tmpdir(), 'rtd-runner-temp-'))
const SUMMARY = join(mkdtempSync(join(tmpdir(), 'rtd-summary-')), 'summary')
writeFileSync(SUMMARY, '')

export function resetEnv(): void {
  for (const key of touched) delete process.env[key]
  touched.clear()
  process.exitCode = undefined
}

function setEnv(key: string, value: string): void {
  touched.add(key)
  process.env[key] = value
}

/** A fresh workspace with the example task definitions (and any extra files). */
export function workspace(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rtd-ws-'))
  for (const name of ['web.json', 'web.yaml', 'described.json'])
    copyFileSync(join(EXAMPLES, name), join(dir, name))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

export async function render(
  inputs: Record<string, string>,
  options: { aws?: FakeAws; workspace?: string; uniqueId?: string } = {}
): Promise<RenderResult> {
  // Every run's temp folder lives under one RUNNER_TEMP, so a later step may read an earlier step's output.
  const dir = mkdtempSync(join(RUNNER_TEMP, 'rtd-run-'))
  const ws = options.workspace ?? workspace()
  mkdirSync(join(dir, 'temp'))
  const files = { GITHUB_OUTPUT: join(dir, 'output') }
  writeFileSync(files.GITHUB_OUTPUT, '')
  setEnv('GITHUB_OUTPUT', files.GITHUB_OUTPUT)
  // @actions/core caches the summary path on first use: keep one file per test process and read our slice.
  process.env['GITHUB_STEP_SUMMARY'] = SUMMARY
  const summaryStart = readFileSync(SUMMARY, 'utf8').length
  setEnv('GITHUB_WORKSPACE', ws)
  setEnv('RUNNER_TEMP', RUNNER_TEMP)
  for (const [name, value] of Object.entries(inputs)) setEnv(`INPUT_${name.toUpperCase()}`, value)

  const written = new Map<string, string>()
  const notices: string[] = []
  const auth: AwsAuthInputs[] = []
  const describes: string[] = []
  const lookups: string[] = []
  const fake: RenderAws = {
    region: 'us-east-1',
    describe: (id) => {
      describes.push(id)
      const doc = options.aws?.describe?.(id)
      return doc ? Promise.resolve(doc) : Promise.reject(new Error(`unexpected describe ${id}`))
    },
    lookupDigest: (ref: ImageReference) => {
      const key = `${ref.repository}:${ref.tag}`
      lookups.push(key)
      const digest = options.aws?.digests?.[key]
      return digest ? Promise.resolve(digest) : Promise.reject(new Error(`no digest for ${key}`))
    }
  }
  const deps: RenderDeps = {
    getInputs: () => getInputs(),
    aws: (a) => {
      auth.push(a)
      return Promise.resolve(fake)
    },
    readFile: (path) => readFileSync(path, 'utf8'),
    writeFile: (path, data) => {
      writeFileSync(path, data, { flag: 'wx' })
      written.set(path, data)
    },
    outputDir: () => join(dir, 'temp'),
    uniqueId: () => options.uniqueId ?? 'u1',
    notice: (message) => notices.push(message),
    info: () => undefined
  }
  const lines: string[] = []
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n'))
      return true
    })
  try {
    await run(deps)
  } finally {
    spy.mockRestore()
  }
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return {
    exitCode,
    errors: lines
      .filter((l) => l.startsWith('::error::'))
      .map((l) => l.slice('::error::'.length).replace(/%0A/g, '\n').replace(/%25/g, '%')),
    notices,
    written,
    doc: () => {
      const [text] = [...written.values()]
      if (text === undefined) throw new Error(`nothing was written: ${lines.join('\n')}`)
      return JSON.parse(text) as ReturnType<RenderResult['doc']>
    },
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(SUMMARY, 'utf8').slice(summaryStart),
    auth,
    describes,
    lookups,
    workspace: ws
  }
}

export function container(
  doc: ReturnType<RenderResult['doc']>,
  name: string
): Record<string, unknown> {
  const found = doc.containerDefinitions.find((c) => c['name'] === name)
  if (!found) throw new Error(`no container ${name}`)
  return found
}
