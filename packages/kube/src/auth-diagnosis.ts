/** What to tell a user whose EKS token the cluster refused (401) or whose identity lacks RBAC rights (403). */

/** arn:aws:sts::1:assumed-role/NAME/SESSION → arn:aws:iam::1:role/NAME (the path is lost, as EKS maps it). */
export function canonicalPrincipalArn(callerArn: string): string {
  const assumed = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn)
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`
  return callerArn
}

export interface AuthDiagnosisInput {
  status: number
  clusterName: string
  region: string
  callerArn: string
  authenticationMode: string | undefined
  /** Principal ARNs of the cluster's access entries; undefined when they could not be listed. */
  accessEntries: string[] | undefined
  /** Why listing failed, if it did. */
  listError?: string
  serverMessage: string
}

export function authDiagnosis(d: AuthDiagnosisInput): {
  message: string
  hint: string
  lines: string[]
} {
  const principal = canonicalPrincipalArn(d.callerArn)
  const mode = d.authenticationMode ?? 'unknown'
  const hasEntry = d.accessEntries?.includes(principal)
  const lines = [
    `Caller: ${d.callerArn}`,
    `Principal EKS maps: ${principal}`,
    `Cluster authentication mode: ${mode}`,
    d.accessEntries === undefined
      ? `Access entry for the principal: unknown (eks:ListAccessEntries failed${d.listError ? `: ${d.listError}` : ''})`
      : `Access entry for the principal: ${hasEntry ? 'present' : 'none'}`
  ]
  const createEntry = `aws eks create-access-entry --cluster-name ${d.clusterName} --region ${d.region} --principal-arn ${principal}`
  const associate = `aws eks associate-access-policy --cluster-name ${d.clusterName} --region ${d.region} --principal-arn ${principal} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy --access-scope type=namespace,namespaces=<namespace>`
  const awsAuth = `mapRoles in the kube-system/aws-auth ConfigMap: "- rolearn: ${principal}\\n  username: shipline\\n  groups: [<group bound to a Role>]" (the role ARN without its IAM path)`
  let hint: string
  if (d.status === 403 && hasEntry) {
    hint = `The role has an access entry but lacks rights for this request: associate an access policy, e.g. ${associate}`
  } else if (mode === 'CONFIG_MAP') {
    hint = `The cluster only reads the aws-auth ConfigMap: add ${awsAuth}, or switch the cluster to API_AND_CONFIG_MAP and run ${createEntry} then ${associate}`
  } else {
    hint = `Grant the role access: ${createEntry} then ${associate}${mode === 'API_AND_CONFIG_MAP' ? ` (or add ${awsAuth})` : ''}`
  }
  const what =
    d.status === 401
      ? 'refused our EKS token (401 Unauthorized)'
      : `denied the request (403 Forbidden: ${d.serverMessage})`
  return {
    message: `cluster "${d.clusterName}" ${what}; the caller is ${d.callerArn} (mapped as ${principal}), authentication mode ${mode}, access entry ${d.accessEntries === undefined ? 'unknown' : hasEntry ? 'present' : 'missing'}`,
    hint,
    lines
  }
}
