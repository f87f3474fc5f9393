/** ECR private registry hosts: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn] (and the dual-stack form). */
const ECR_HOST =
  /^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:on\.aws|amazonaws\.com(?:\.cn)?)$/

export function parseEcrRegistry(
  registry: string | undefined
): { accountId: string; region: string } | undefined {
  const match = registry ? ECR_HOST.exec(registry) : null
  return match ? { accountId: match[1] as string, region: match[2] as string } : undefined
}
