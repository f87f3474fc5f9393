/**
 * AWS KMS (awsJson1_1, `TrentService`): DescribeKey over keys and aliases seeded through the admin API
 * (`POST /_sim/kms/seed`), and the key resolution other services need (ECR stores the key ARN of the key a
 * repository was created with, whatever form the caller named it in). Shapes and error codes follow the KMS API
 * reference; no cryptography.
 */
import { randomUUID } from 'node:crypto'
import { AwsError, type AdminHandler, type Clock, type ServiceModule } from '../core/types.js'

export interface KmsDeps {
  clock: Clock
  accountId: string
  region: string
}

export interface KmsKey {
  keyId: string
  arn: string
  description: string
  keyManager: 'CUSTOMER' | 'AWS'
  keyState: string
  created: Date
}

export interface KmsService extends ServiceModule {
  /**
   * The key a key ID, key ARN, alias name (`alias/…`) or alias ARN names, or undefined. A predefined AWS alias
   * (`alias/aws/<service>`) names an AWS managed key, created on first use as KMS does.
   */
  resolve(keyId: string): KmsKey | undefined
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function createKmsService(deps: KmsDeps): KmsService {
  const keys = new Map<string, KmsKey>()
  const aliases = new Map<string, string>()
  const prefix = `arn:aws:kms:${deps.region}:${deps.accountId}:`

  function addKey(keyId: string, description: string, keyManager: KmsKey['keyManager']): KmsKey {
    const key: KmsKey = {
      keyId,
      arn: `${prefix}key/${keyId}`,
      description,
      keyManager,
      keyState: 'Enabled',
      created: new Date(deps.clock.now())
    }
    keys.set(keyId, key)
    return key
  }

  function resolve(keyId: string): KmsKey | undefined {
    let id = keyId
    if (id.startsWith('arn:')) {
      if (!id.startsWith(prefix)) return undefined
      id = id.slice(prefix.length)
      if (id.startsWith('key/')) id = id.slice(4)
    }
    if (id.startsWith('alias/')) {
      const target = aliases.get(id)
      if (target) return keys.get(target)
      if (/^alias\/aws\/[\w-]+$/.test(id)) {
        const key = addKey(randomUUID(), `Default key that protects my ${id.slice(10)} data`, 'AWS')
        aliases.set(id, key.keyId)
        return key
      }
      return undefined
    }
    return keys.get(id)
  }

  const admin: Record<string, AdminHandler> = {
    /** {keys: [{keyId?, description?, aliases?: ["alias/…"]}]} → {keys: [{keyId, arn, aliases}]} */
    seed: (body) => {
      const list = body['keys']
      if (!Array.isArray(list))
        throw new AwsError('ValidationException', 'seed needs {"keys": [...]}')
      return {
        keys: (list as Array<Record<string, unknown>>).map((raw) => {
          const keyId = typeof raw['keyId'] === 'string' ? raw['keyId'] : randomUUID()
          if (!UUID.test(keyId))
            throw new AwsError('ValidationException', `keyId must be a UUID, got ${keyId}`)
          const key = addKey(
            keyId,
            typeof raw['description'] === 'string' ? raw['description'] : '',
            'CUSTOMER'
          )
          const names = Array.isArray(raw['aliases']) ? (raw['aliases'] as unknown[]) : []
          for (const name of names) {
            if (
              typeof name !== 'string' ||
              !/^alias\/[\w/-]+$/.test(name) ||
              name.startsWith('alias/aws/')
            )
              throw new AwsError('ValidationException', `bad alias name ${String(name)}`)
            aliases.set(name, keyId)
          }
          return { keyId, arn: key.arn, aliases: names }
        })
      }
    }
  }

  return {
    signingName: 'kms',
    protocol: 'json1.1',
    targetPrefix: 'TrentService',
    admin,
    resolve,
    resourceArn: (_op, input) => {
      const id = typeof input['KeyId'] === 'string' ? input['KeyId'] : undefined
      if (!id) return undefined
      return (
        resolve(id)?.arn ??
        (id.startsWith('arn:') ? id : `${prefix}${id.startsWith('alias/') ? id : `key/${id}`}`)
      )
    },
    handlers: {
      DescribeKey: (input) => {
        const keyId = input['KeyId']
        if (typeof keyId !== 'string' || keyId.length < 1 || keyId.length > 2048)
          throw new AwsError(
            'ValidationException',
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
          )
        const key = resolve(keyId)
        if (!key) {
          const alias = keyId.startsWith('alias/') || /:alias\//.test(keyId)
          throw new AwsError(
            'NotFoundException',
            alias
              ? `Alias ${keyId.startsWith('arn:') ? keyId : `${prefix}${keyId}`} is not found.`
              : `Key '${keyId.startsWith('arn:') ? keyId : `${prefix}key/${keyId}`}' does not exist`
          )
        }
        return {
          KeyMetadata: {
            AWSAccountId: deps.accountId,
            KeyId: key.keyId,
            Arn: key.arn,
            CreationDate: key.created,
            Enabled: key.keyState === 'Enabled',
            Description: key.description,
            KeyUsage: 'ENCRYPT_DECRYPT',
            KeyState: key.keyState,
            Origin: 'AWS_KMS',
            KeyManager: key.keyManager,
            CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
            KeySpec: 'SYMMETRIC_DEFAULT',
            EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
            MultiRegion: false
          }
        }
      }
    }
  }
}
