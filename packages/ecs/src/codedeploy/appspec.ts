/**
 * The AppSpec of an ECS blue/green deployment through CodeDeploy: generate one (task definition, container and
 * port of the service's load balancer, optional hook functions), or take a provided one (YAML or JSON) and replace
 * every TaskDefinition in it with the revision being deployed; check its containers and ports against that revision.
 */
import { InputError, ParserNotLoaded, yaml } from '@shipline/action-kit'
import type { TaskDefinition } from '../task-definition/render.js'

/** The lifecycle events of an ECS deployment that can run a hook function (the others are CodeDeploy's own). */
export const HOOK_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic'
] as const
export type HookEvent = (typeof HOOK_EVENTS)[number]

export interface AppSpecHook {
  event: HookEvent
  functionName: string
}

export interface AppSpecTarget {
  containerName: string
  containerPort: number
}

export type AppSpecDocument = Record<string, unknown>

const FUNCTION =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$/

/** Parses `Event=function,Event=function` (commas or new lines). */
export function parseHooks(input: string, text: string): AppSpecHook[] {
  const hooks: AppSpecHook[] = []
  for (const item of text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(item)
    if (!m) {
      throw new InputError(
        input,
        `"${item}" is not Event=function`,
        `Write e.g. "AfterAllowTraffic=smoke-test"; events: ${HOOK_EVENTS.join(', ')}.`
      )
    }
    const event = m[1]!
    if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
      throw new InputError(
        input,
        `"${event}" is not a hook event of an ECS deployment`,
        `Use one of ${HOOK_EVENTS.join(', ')} (Install, AllowTestTraffic and AllowTraffic are CodeDeploy's own).`
      )
    }
    if (hooks.some((h) => h.event === event)) {
      throw new InputError(input, `"${event}" is given twice`, 'Give each event one function.')
    }
    if (!FUNCTION.test(m[2]!)) {
      throw new InputError(
        input,
        `"${m[2]}" is not a Lambda function name or ARN`,
        'Use the function name, or its ARN (arn:aws:lambda:<region>:<account>:function:<name>).'
      )
    }
    hooks.push({ event: event as HookEvent, functionName: m[2]! })
  }
  return hooks
}

function targetServices(doc: AppSpecDocument): Record<string, unknown>[] {
  const resources = doc['Resources']
  if (!Array.isArray(resources)) return []
  const out: Record<string, unknown>[] = []
  for (const r of resources) {
    if (!r || typeof r !== 'object') continue
    for (const value of Object.values(r as Record<string, unknown>)) {
      if (
        value &&
        typeof value === 'object' &&
        (value as Record<string, unknown>)['Type'] === 'AWS::ECS::Service'
      )
        out.push(value as Record<string, unknown>)
    }
  }
  return out
}

/** Parses and validates a provided AppSpec (YAML or JSON, an ECS AppSpec with at least one AWS::ECS::Service). */
export function parseAppSpec(input: string, display: string, text: string): AppSpecDocument {
  let doc: unknown
  try {
    doc = yaml.parse(text)
  } catch (error) {
    if (error instanceof ParserNotLoaded) throw error
    throw new InputError(
      input,
      `"${display}" is neither YAML nor JSON (${(error as Error).message.split('\n')[0]})`,
      'Point it at an appspec.yaml or appspec.json file.'
    )
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError(
      input,
      `"${display}" is not a YAML/JSON mapping`,
      'An AppSpec has "version: 0.0", "Resources" and optionally "Hooks".'
    )
  }
  const targets = targetServices(doc as AppSpecDocument)
  if (!targets.length) {
    throw new InputError(
      input,
      `"${display}" is not an ECS AppSpec: no Resources entry of Type AWS::ECS::Service`,
      'Write Resources: - TargetService: {Type: AWS::ECS::Service, Properties: {TaskDefinition, LoadBalancerInfo: {ContainerName, ContainerPort}}}.'
    )
  }
  for (const t of targets) {
    const props = t['Properties'] as Record<string, unknown> | undefined
    const lb = props?.['LoadBalancerInfo'] as Record<string, unknown> | undefined
    if (
      !lb ||
      typeof lb['ContainerName'] !== 'string' ||
      !Number.isInteger(Number(lb['ContainerPort']))
    ) {
      throw new InputError(
        input,
        `"${display}" has a TargetService without LoadBalancerInfo.ContainerName and ContainerPort`,
        'Name the container and port that receive the load balancer traffic.'
      )
    }
  }
  const hooks = (doc as AppSpecDocument)['Hooks']
  if (hooks !== undefined) {
    if (!Array.isArray(hooks)) {
      throw new InputError(
        input,
        `"${display}": Hooks must be a list`,
        'Write Hooks: - AfterAllowTraffic: "fn".'
      )
    }
    for (const h of hooks) {
      for (const event of Object.keys((h ?? {}) as object)) {
        if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
          throw new InputError(
            input,
            `"${display}": "${event}" is not a hook event of an ECS deployment`,
            `Use one of ${HOOK_EVENTS.join(', ')}.`
          )
        }
      }
    }
  }
  return doc as AppSpecDocument
}

/** The containers and ports a (parsed) AppSpec routes traffic to. */
export function appSpecTargets(doc: AppSpecDocument): AppSpecTarget[] {
  return targetServices(doc).map((t) => {
    const lb = (t['Properties'] as Record<string, unknown>)['LoadBalancerInfo'] as Record<
      string,
      unknown
    >
    return {
      containerName: String(lb['ContainerName']),
      containerPort: Number(lb['ContainerPort'])
    }
  })
}

/** A copy of `doc` with every TaskDefinition replaced by `taskDefinitionArn`, as JSON text. */
export function withTaskDefinition(doc: AppSpecDocument, taskDefinitionArn: string): string {
  const copy = structuredClone(doc)
  for (const t of targetServices(copy)) {
    const props = (t['Properties'] ?? {}) as Record<string, unknown>
    props['TaskDefinition'] = taskDefinitionArn
    t['Properties'] = props
  }
  return JSON.stringify(copy, null, 2)
}

/** A generated AppSpec, as JSON text. */
export function generateAppSpec(
  taskDefinitionArn: string,
  target: AppSpecTarget,
  hooks: readonly AppSpecHook[]
): string {
  const doc: AppSpecDocument = {
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: taskDefinitionArn,
            LoadBalancerInfo: {
              ContainerName: target.containerName,
              ContainerPort: target.containerPort
            }
          }
        }
      }
    ]
  }
  if (hooks.length) doc['Hooks'] = hooks.map((h) => ({ [h.event]: h.functionName }))
  return JSON.stringify(doc, null, 2)
}

/** Each target's container must exist in the task definition and map the port. */
export function checkAppSpecTargets(
  input: string,
  targets: readonly AppSpecTarget[],
  td: TaskDefinition
): void {
  const containers = (td['containerDefinitions'] ?? []) as {
    name?: string
    portMappings?: { containerPort?: number }[]
  }[]
  for (const t of targets) {
    const c = containers.find((x) => x.name === t.containerName)
    if (!c) {
      throw new InputError(
        input,
        `container "${t.containerName}" is not in the task definition being deployed (containers: ${containers.map((x) => x.name).join(', ')})`,
        'Make LoadBalancerInfo.ContainerName name a container of the task definition.'
      )
    }
    const ports = (c.portMappings ?? []).map((p) => p.containerPort)
    if (!ports.includes(t.containerPort)) {
      throw new InputError(
        input,
        `container "${t.containerName}" does not map port ${t.containerPort} (ports: ${ports.join(', ') || 'none'})`,
        "Make LoadBalancerInfo.ContainerPort one of the container's portMappings."
      )
    }
  }
}
