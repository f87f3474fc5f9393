/** KMS DescribeKey and ECR's key ARNs, through the real SDK clients. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient
} from '@aws-sdk/client-ecr'
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack
let kms: KMSClient
let ecr: ECRClient
let keyArn: string
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'

beforeAll(async () => {
  stack = await startStack({ registry: false })
  kms = new KMSClient({ ...stack.clientConfig })
  ecr = new ECRClient({ ...stack.clientConfig })
  const seeded = await stack.admin.post<{ keys: { arn: string }[] }>('kms/seed', {
    keys: [{ keyId: KEY_ID, description: 'images', aliases: ['alias/shop-images'] }]
  })
  keyArn = seeded.keys[0]?.arn as string
})

afterAll(async () => {
  kms?.destroy()
  ecr?.destroy()
  await stack?.stop()
})

describe('KMS DescribeKey', () => {
  it('resolves a key ID, key ARN, alias name and alias ARN to the same key', async () => {
    expect(keyArn).toBe(`arn:aws:kms:${stack.region}:${stack.accountId}:key/${KEY_ID}`)
    for (const id of [
      KEY_ID,
      keyArn,
      'alias/shop-images',
      `arn:aws:kms:${stack.region}:${stack.accountId}:alias/shop-images`
    ]) {
      const out = await kms.send(new DescribeKeyCommand({ KeyId: id }))
      expect(out.KeyMetadata).toMatchObject({
        KeyId: KEY_ID,
        Arn: keyArn,
        AWSAccountId: stack.accountId,
        Description: 'images',
        KeyManager: 'CUSTOMER',
        KeyState: 'Enabled',
        Enabled: true,
        KeySpec: 'SYMMETRIC_DEFAULT'
      })
    }
  })

  it('a predefined AWS alias names an AWS managed key; unknown names are NotFoundException', async () => {
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ecr' }))
    expect(managed.KeyMetadata?.KeyManager).toBe('AWS')
    expect(managed.KeyMetadata?.Arn).toMatch(/^arn:aws:kms:[^:]+:\d{12}:key\/[0-9a-f-]{36}$/)
    const again = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ecr' }))
    expect(again.KeyMetadata?.Arn).toBe(managed.KeyMetadata?.Arn)
    await expect(kms.send(new DescribeKeyCommand({ KeyId: 'alias/nope' }))).rejects.toMatchObject({
      name: 'NotFoundException',
      message: `Alias arn:aws:kms:${stack.region}:${stack.accountId}:alias/nope is not found.`
    })
    await expect(
      kms.send(new DescribeKeyCommand({ KeyId: '00000000-0000-0000-0000-000000000000' }))
    ).rejects.toMatchObject({ name: 'NotFoundException' })
  })
})

describe('ECR repositories encrypted with KMS', () => {
  it('reports the key ARN whichever form named the key; the default is the AWS managed key; an unknown alias is a KmsException', async () => {
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'kms/by-alias',
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/shop-images' }
      })
    )
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'kms/default',
        encryptionConfiguration: { encryptionType: 'KMS' }
      })
    )
    const out = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['kms/by-alias', 'kms/default'] })
    )
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ecr' }))
    expect(out.repositories?.map((r) => r.encryptionConfiguration)).toEqual([
      { encryptionType: 'KMS', kmsKey: keyArn },
      { encryptionType: 'KMS', kmsKey: managed.KeyMetadata?.Arn }
    ])
    await expect(
      ecr.send(
        new CreateRepositoryCommand({
          repositoryName: 'kms/unknown',
          encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/missing' }
        })
      )
    ).rejects.toMatchObject({ name: 'KmsException' })
  })
})
