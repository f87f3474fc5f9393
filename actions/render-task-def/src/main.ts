import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { core } from '@shipline/action-kit'
import {
  ActionError,
  escapeHtml,
  readInputFile,
  runAction,
  setOutputs,
  withParsers,
  writeSummary
} from '@shipline/action-kit'
import type { AwsAuthInputs } from '@shipline/aws'
import {
  applyContainerChanges,
  applyTaskChanges,
  checkTaskDefinition,
  findContainer,
  type DigestLookup,
  normaliseTaskDefinition,
  parseTaskDefinitionText,
  renderImage,
  serialiseTaskDefinition,
  setContainerImage,
  validateTaskDefinitionModel
} from '@shipline/ecs'
import { ACTION_NAME, getInputs, type RenderInputs } from './inputs.js'

/** What render-task-def needs from AWS: ECS for Describe, ECR for digest lookups. */
export interface RenderAws {
  region: string
  describe(id: string, input: string): Promise<Record<string, unknown>>
  lookupDigest: DigestLookup
}

export interface RenderDeps {
  getInputs(): RenderInputs
  aws(auth: AwsAuthInputs): Promise<RenderAws>
  readFile(path: string, input: string, shownAs: string): string
  /** Writes the rendered file; must fail rather than overwrite. */
  writeFile(path: string, data: string): void
  outputDir(): string
  uniqueId(): string
  notice(message: string): void
  info(message: string): void
}

export function defaultDeps(): RenderDeps {
  return {
    getInputs: () => getInputs(),
    // The AWS SDK clients load only on the paths that call AWS (an ARN or family, a tag to resolve).
    aws: async (auth) => (await import('./aws.js')).renderAws(auth),
    readFile: (path, input, shownAs) => readInputFile(input, path, shownAs),
    writeFile: (path, data) => writeFileSync(path, data, { flag: 'wx', mode: 0o644 }),
    outputDir: () => process.env['RUNNER_TEMP'] || tmpdir(),
    uniqueId: () => randomUUID().slice(0, 8),
    notice: (message) => core.notice(message),
    info: (message) => core.info(message)
  }
}

interface ContainerRow {
  name: string
  oldImage: string
  newImage: string
  environment: string[]
  secrets: string[]
}

export async function run(deps: RenderDeps = defaultDeps()): Promise<void> {
  await runAction(ACTION_NAME, async () => {
    const inputs = deps.getInputs()
    const { source } = inputs
    let aws: RenderAws | undefined
    const session = async (): Promise<RenderAws> =>
      (aws ??= await deps.aws(inputs.auth as AwsAuthInputs))

    let raw: unknown
    let from: string
    if (source.kind === 'file') {
      const text = deps.readFile(source.path, source.input, source.display)
      raw = await withParsers(() => parseTaskDefinitionText(source.input, source.display, text))
      from = source.display
    } else {
      raw = await (await session()).describe(source.id, source.input)
      from = source.id
    }
    const loaded = normaliseTaskDefinition(raw, source.input)
    if (loaded.unwrapped)
      deps.notice(
        `${from}: read the "taskDefinition" of describe-task-definition output (and its tags).`
      )
    if (loaded.stripped.length)
      deps.notice(
        `${from}: removed the Describe-only fields ${loaded.stripped.join(', ')} (RegisterTaskDefinition rejects them).`
      )
    if (loaded.nullsRemoved.length)
      deps.notice(`${from}: removed null values at ${loaded.nullsRemoved.join(', ')}.`)
    const td = loaded.taskDefinition

    const rows = new Map<string, ContainerRow>()
    const row = (name: string): ContainerRow => {
      let r = rows.get(name)
      if (!r) {
        const container = td.containerDefinitions.find((c) => c.name === name)
        const image = typeof container?.image === 'string' ? container.image : ''
        r = { name, oldImage: image, newImage: image, environment: [], secrets: [] }
        rows.set(name, r)
      }
      return r
    }

    for (const edit of inputs.edits) {
      const container = findContainer(td, edit.container, edit.input)
      const report = applyContainerChanges(container, edit.changes)
      const r = row(edit.container)
      r.environment.push(...report.environment)
      r.secrets.push(...report.secrets)
    }
    for (const plan of inputs.images) {
      findContainer(td, plan.container, plan.input === 'image' ? 'container-name' : 'containers')
      row(plan.container)
    }
    applyTaskChanges(td, inputs.task)
    // The checks below see the new images (as given; digests are resolved only once everything is valid).
    for (const plan of inputs.images)
      findContainer(td, plan.container, plan.input).image = renderImage(plan)

    const issues = validateTaskDefinitionModel(td)
    if (issues.length > 0) {
      throw new ActionError(
        `The rendered task definition does not match the ECS model: ${issues.map((i) => `${i.path} ${i.problem}`).join('; ')}`,
        'Check the inputs that changed these keys.'
      )
    }
    checkTaskDefinition(
      td,
      (field) =>
        inputs.taskInputs[field as keyof RenderInputs['taskInputs']] ??
        (field === 'executionRoleArn' ? 'execution-role-arn' : source.input)
    )

    // Every input is valid and the result would register: only now resolve digests (read-only ECR calls).
    for (const plan of inputs.images) {
      const digest = plan.lookup
        ? await (await session()).lookupDigest(plan.ref, plan.input)
        : plan.digest
      const image = renderImage(plan, digest)
      const container = findContainer(td, plan.container, plan.input)
      setContainerImage(container, image, digest ? plan.ref.tag : undefined)
      row(plan.container).newImage = image
      deps.info(
        `${plan.container}: ${image}${digest && plan.ref.tag ? ` (tag ${plan.ref.tag})` : ''}`
      )
    }

    const family = String(td['family'])
    const file = join(deps.outputDir(), `task-definition-${family}-${deps.uniqueId()}.json`)
    deps.writeFile(file, serialiseTaskDefinition(td))
    deps.info(
      `Rendered ${family} (${td.containerDefinitions.length} container${td.containerDefinitions.length === 1 ? '' : 's'}) to ${file}`
    )

    const images = Object.fromEntries(
      [...rows.values()].filter((r) => r.newImage !== r.oldImage).map((r) => [r.name, r.newImage])
    )
    setOutputs({ 'task-definition': file, images })
    await writeSummary({
      title: `render-task-def: ${escapeHtml(family)}`,
      rows: [
        ['Source', escapeHtml(from)],
        ['Rendered file', escapeHtml(file)]
      ],
      tables: rows.size
        ? [
            {
              header: ['Container', 'Old image', 'New image', 'Environment', 'Secrets'],
              rows: [...rows.values()].map((r) => [
                escapeHtml(r.name),
                code(r.oldImage),
                r.newImage === r.oldImage ? '(unchanged)' : code(r.newImage),
                names(r.environment),
                names(r.secrets)
              ])
            }
          ]
        : [],
      ...(loaded.stripped.length
        ? { markdown: `Removed Describe-only fields: ${escapeHtml(loaded.stripped.join(', '))}.` }
        : {})
    })
  })
}

/** A value as an HTML code element (summary table cells are HTML): escaped, backticks included. */
function code(text: string): string {
  return text ? `<code>${escapeHtml(text).replace(/`/g, '&#96;')}</code>` : '(none)'
}

/** `+ADDED ~CHANGED -REMOVED` names only, never values. */
function names(list: string[]): string {
  return list.length ? list.map(code).join(' ') : ''
}
