import { describe, expect, it } from '@jest/globals'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { allows, loadPolicy, uncovered, type PolicyDocument } from '../../helpers/iam-coverage.js'
import { REPO_ROOT } from '../../helpers/runner.js'

const ACTIONS = readdirSync(join(REPO_ROOT, 'actions')).sort()

describe('the IAM coverage check', () => {
  it('has a policy for every action', () => {
    expect(readdirSync(join(REPO_ROOT, 'docs/iam')).sort()).toEqual(ACTIONS.map((a) => `${a}.json`))
  })

  it('matches IAM wildcards, case-insensitively', () => {
    const policy: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: ['ecr:Describe*', 'ecs:UpdateServic?'] },
        { Effect: 'Deny', Action: 'iam:GetRole' }
      ]
    }
    expect(allows(policy, 'ecr:DescribeImages')).toBe(true)
    expect(allows(policy, 'ECS:updateservice')).toBe(true)
    expect(allows(policy, 'ecr:PutImage')).toBe(false)
    expect(allows(policy, 'iam:GetRole')).toBe(false)
  })

  it('fails when an operation an action calls is removed from its policy', () => {
    const calls = [
      { action: 'deploy-ecs', iamAction: 'ecs:UpdateService' },
      { action: 'deploy-ecs', iamAction: 'iam:GetRole' },
      { action: 'deploy-ecs', iamAction: 'sts:GetCallerIdentity' }
    ]
    expect(uncovered(calls)).toEqual([])
    const without =
      (op: string) =>
      (action: string): PolicyDocument => {
        const policy = loadPolicy(action)
        return {
          Statement: policy.Statement.map((s) => ({
            ...s,
            Action: [s.Action ?? []].flat().filter((a) => a !== op)
          }))
        }
      }
    expect(uncovered(calls, without('ecs:UpdateService'))).toEqual(['deploy-ecs ecs:UpdateService'])
    expect(uncovered(calls, without('iam:GetRole'))).toEqual(['deploy-ecs iam:GetRole'])
  })
})
