// The AWS side of render-task-def (DescribeTaskDefinition, ECR digest lookups), loaded by main.ts only on the
// paths that call AWS, so a render from a file with an image given by digest never loads an SDK client.
import { ECRClient } from '@aws-sdk/client-ecr'
import { ECSClient } from '@aws-sdk/client-ecs'
import {
  type AwsAuthInputs,
  type AwsClientConfig,
  createAwsClients,
  patientClient
} from '@shipline/aws'
import { endpointRegistryHost } from '@shipline/ecr'
import {
  describeTaskDefinitionSource,
  imageDigestLookup,
  taskDefinitionRegion
} from '@shipline/ecs'
import type { RenderAws } from './main.js'

/** The longest one AWS call is retried through transient failures. */
const PATIENCE_SECONDS = 90

export async function renderAws(auth: AwsAuthInputs): Promise<RenderAws> {
  const session = await createAwsClients(auth)
  // A throttling storm or a 5xx burst outlasting the SDK's few attempts slows the render instead of failing it.
  const patience = { budgetMs: PATIENCE_SECONDS * 1000 }
  const perRegion = <C extends { send: (...args: never[]) => Promise<unknown> }>(
    Client: new (config: AwsClientConfig) => C
  ): ((r?: string) => C) => {
    const clients = new Map<string, C>()
    return (region) => {
      const key = region ?? session.region
      let client = clients.get(key)
      if (!client) {
        client = patientClient(
          key === session.region
            ? session.client(Client)
            : new Client({ ...session.config, region: key }),
          patience
        )
        clients.set(key, client)
      }
      return client
    }
  }
  const ecsFor = perRegion(ECSClient)
  const ecrFor = perRegion(ECRClient)
  return {
    region: session.region,
    describe: (id, input) => {
      // An ARN is read in its own region (and must be in the job's account).
      const region = taskDefinitionRegion(id, input, {
        region: session.region,
        accountId: session.identity.accountId
      })
      return describeTaskDefinitionSource(ecsFor(region), id, input, region)
    },
    lookupDigest: imageDigestLookup({
      ecrFor,
      endpointRegistry: () => endpointRegistryHost(ecrFor(undefined))
    })
  }
}
