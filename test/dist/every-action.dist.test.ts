import { describe, expect, it } from '@jest/globals'
import { chunksContaining, recordChunks } from '../helpers/loaded-chunks.js'
import { runAction } from '../helpers/runner.js'

const ACTIONS = ['build-tag-push', 'deploy-ecs', 'deploy-eks-manifest', 'render-task-def', 'scan-gate']

describe.each(ACTIONS)('bundled %s', (name) => {
  it('with no inputs exits 1 naming the missing required input, without a stack trace or loading the AWS SDK', async () => {
    const chunks = recordChunks()
    const result = await runAction(name, { env: chunks.env })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(new RegExp(`^${name}: input "[a-z-]+" is required`))
    expect(result.log).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/)
    expect(result.outputs).toEqual({})
    // Inputs are checked before anything that calls AWS is loaded (each SDK client carries the SigV4 scheme id).
    const sdkClients = chunksContaining('aws.auth#sigv4')
    expect(sdkClients.length).toBeGreaterThan(0)
    expect(chunks.loaded()).toContain('index.js')
    expect(chunks.loaded().filter((chunk) => sdkClients.includes(chunk))).toEqual([])
  })
})
