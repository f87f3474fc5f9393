import { describe, expect, it } from '@jest/globals'
import { parseEcrRegistry } from '../../../packages/ecr/src/registry.js'

describe('parseEcrRegistry', () => {
  it('recognises ECR registry hosts only', () => {
    expect(parseEcrRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com')).toEqual({
      accountId: '123456789012',
      region: 'us-east-1'
    })
    expect(parseEcrRegistry('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe(
      'cn-north-1'
    )
    expect(parseEcrRegistry('127.0.0.1:5001')).toBeUndefined()
    expect(parseEcrRegistry(undefined)).toBeUndefined()
  })
})
