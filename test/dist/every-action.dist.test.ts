import { describe, expect, it } from '@jest/globals'
import { runAction } from '../helpers/runner.js'

const ACTIONS = ['build-tag-push', 'deploy-ecs', 'deploy-eks-manifest', 'render-task-def', 'scan-gate']

describe.each(ACTIONS)('bundled %s', (name) => {
  it('with no inputs exits 1 naming the missing required input, without a stack trace', async () => {
    const result = await runAction(name)
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(new RegExp(`^${name}: input "[a-z-]+" is required`))
    expect(result.log).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/)
    expect(result.outputs).toEqual({})
  })

})
