/**
 * Writes packages/ecs/src/task-definition/ecs-model.generated.ts from the installed @aws-sdk/client-ecs
 * (run after upgrading it): `npm run gen:ecs-model`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import * as prettier from 'prettier'
import { buildEcsModel, GENERATED_PATH, renderEcsModelModule } from './ecs-model.js'

const root = resolve(import.meta.dirname, '..')
const target = join(root, GENERATED_PATH)
const table = buildEcsModel()
const options = (await prettier.resolveConfig(target)) ?? {}
const text = await prettier.format(renderEcsModelModule(table), { ...options, filepath: target })
let before = ''
try {
  before = readFileSync(target, 'utf8')
} catch {
  // first generation
}
if (before === text) {
  process.stdout.write(
    `${GENERATED_PATH} is up to date (@aws-sdk/client-ecs ${table.sdkVersion})\n`
  )
} else {
  writeFileSync(target, text)
  process.stdout.write(
    `wrote ${GENERATED_PATH} (@aws-sdk/client-ecs ${table.sdkVersion}, ${Buffer.byteLength(text)} bytes)\n`
  )
}
