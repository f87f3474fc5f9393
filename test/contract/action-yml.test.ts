import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/runner.js'

interface ActionYml {
  name?: string
  description?: string
  author?: string
  branding?: { icon?: string; color?: string }
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown }>
  outputs?: Record<string, { description?: string }>
  runs?: { using?: string; main?: string; post?: string }
}

const actionsDir = join(REPO_ROOT, 'actions')
const names = readdirSync(actionsDir)
  .filter((name) => existsSync(join(actionsDir, name, 'action.yml')))
  .sort()
const load = (name: string): ActionYml =>
  parse(readFileSync(join(actionsDir, name, 'action.yml'), 'utf8')) as ActionYml
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/

describe('action.yml contract', () => {
  it('covers the five Shipline actions', () => {
    expect(names).toEqual([
      'build-tag-push',
      'deploy-ecs',
      'deploy-eks-manifest',
      'render-task-def',
      'scan-gate'
    ])
  })

  describe.each(names)('%s', (name) => {
    const yml = load(name)

    it('runs on node24 from its own bundle, which exists', () => {
      expect(yml.runs?.using).toBe('node24')
      expect(yml.runs?.main).toBe(`../../dist/${name}/index.js`)
      expect(existsSync(join(actionsDir, name, yml.runs?.main ?? 'missing'))).toBe(true)
      expect(
        existsSync(join(actionsDir, name, yml.runs?.post ?? yml.runs?.main ?? 'missing'))
      ).toBe(true)
    })

    it('has a Shipline name, description, author and branding', () => {
      expect(yml.name).toMatch(/^Shipline: \S/)
      expect(yml.description?.trim()).toBeTruthy()
      expect(yml.author).toBeTruthy()
      expect(yml.branding?.icon).toBeTruthy()
      expect(yml.branding?.color).toBeTruthy()
    })

    it('names every input and output in kebab-case with a description', () => {
      for (const [key, spec] of [
        ...Object.entries(yml.inputs ?? {}),
        ...Object.entries(yml.outputs ?? {})
      ]) {
        expect(key).toMatch(KEBAB)
        expect(typeof spec.description === 'string' && spec.description.trim().length > 0).toBe(
          true
        )
      }
    })

    it('reads exactly the inputs it declares, with the same defaults', async () => {
      const module = (await import(join(actionsDir, name, 'src', 'inputs.ts'))) as {
        INPUT_NAMES: readonly string[]
        DEFAULTS: Record<string, unknown>
      }
      expect([...module.INPUT_NAMES].sort()).toEqual(Object.keys(yml.inputs ?? {}).sort())
      const ymlDefaults = Object.fromEntries(
        Object.entries(yml.inputs ?? {})
          .filter(([, spec]) => spec.default !== undefined)
          .map(([key, spec]) => [key, String(spec.default)])
      )
      const codeDefaults = Object.fromEntries(
        Object.entries(module.DEFAULTS).map(([key, value]) => [key, String(value)])
      )
      expect(codeDefaults).toEqual(ymlDefaults)
    })

    it('marks an input required only when it has no default', () => {
      const requiredWithDefault = Object.entries(yml.inputs ?? {})
        .filter(([, spec]) => spec.required && spec.default !== undefined)
        .map(([key]) => key)
      expect(requiredWithDefault).toEqual([])
    })
  })
})
