// Stand-in for the official amazon-ecs-render-task-definition bundle when no clone of it is given: the same
// start-up work (@actions/core and @aws-sdk/client-ecs imported eagerly, as its index.js does), the same file
// work (read the task definition, insert the image, write a temp file, set the output). Bundled unminified
// with ncc, the way the official action is built.
import * as core from '@actions/core'
import { ECSClient } from '@aws-sdk/client-ecs'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

try {
  const file = core.getInput('task-definition', { required: true })
  const name = core.getInput('container-name', { required: true })
  const image = core.getInput('image', { required: true })
  const def = JSON.parse(readFileSync(join(process.env.GITHUB_WORKSPACE ?? '.', file), 'utf8'))
  const container = def.containerDefinitions.find((c) => c.name === name)
  if (!container)
    throw new Error(
      'Invalid task definition: Could not find container definition with matching name'
    )
  container.image = image
  const out = join(process.env.RUNNER_TEMP ?? '.', `task-definition-${process.pid}.json`)
  writeFileSync(out, JSON.stringify(def, null, 2))
  core.setOutput('task-definition', out)
  if (typeof ECSClient !== 'function') throw new Error('unreachable')
} catch (error) {
  core.setFailed(error.message)
}
