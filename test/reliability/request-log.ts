/** Requests that change state in AWS (or Kubernetes): anything but reads and authentication. */
const READ_ONLY = /^(Describe|List|Get|BatchGet|AssumeRole|GetCallerIdentity|Check)/
const KUBE_READ = /^(GET|LIST|WATCH)\b/

export interface LoggedRequest {
  service: string
  operation: string
  kind?: string
}

export function mutatingRequests(requests: readonly LoggedRequest[]): string[] {
  return requests
    .filter((r) =>
      r.service === 'kube' ? !KUBE_READ.test(r.operation) : !READ_ONLY.test(r.operation)
    )
    .filter((r) => r.kind === undefined || r.kind === 'aws' || r.service === 'kube')
    .map((r) => `${r.service}:${r.operation}`)
}
