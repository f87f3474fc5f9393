/**
 * RegisterTaskDefinition validation and normalisation, modelled on the ECS API reference: the family and
 * container name patterns, required members, FARGATE's network mode and task-size table, container memory
 * against task memory, container references (links, dependsOn, volumesFrom) and the execution role Fargate
 * needs to pull ECR images or ship awslogs. Errors are ClientExceptions, as ECS answers.
 */
import { AwsError } from '../core/types.js'
import { isObj, type Json } from './ecs-util.js'

const NAME = /^[A-Za-z0-9_-]{1,255}$/

/** Valid FARGATE task sizes: cpu units → allowed memory MiB. */
const FARGATE_SIZES: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192)
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = []
  for (let v = from; v <= to; v += step) out.push(v)
  return out
}

function clientError(message: string): AwsError {
  return new AwsError('ClientException', message)
}

/** "1 vCPU" / "1vcpu" / "1024" → 1024 cpu units. */
export function parseCpu(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' && typeof v !== 'number')
    throw clientError("Invalid 'cpu' setting for task.")
  const s = String(v).trim()
  let m = /^(\d+)$/.exec(s)
  if (m) return Number(m[1])
  m = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(s)
  if (m) return Math.round(Number(m[1]) * 1024)
  throw clientError("Invalid 'cpu' setting for task.")
}

/** "2 GB" / "2gb" / "2048" → 2048 MiB. */
export function parseMemory(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' && typeof v !== 'number')
    throw clientError("Invalid 'memory' setting for task.")
  const s = String(v).trim()
  let m = /^(\d+)$/.exec(s)
  if (m) return Number(m[1])
  m = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(s)
  if (m) return Math.round(Number(m[1]) * 1024)
  throw clientError("Invalid 'memory' setting for task.")
}

/** True when `image` lives in ECR (or in the simulator's registry, which stands in for ECR). */
function isEcrImage(image: string, registryHost: string): boolean {
  const host = image.split('/')[0] ?? ''
  return /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host) || host === registryHost
}

export interface ValidatedTaskDefinition {
  family: string
  containerDefinitions: Json[]
  body: Json
}

/**
 * Validates a RegisterTaskDefinition request and returns the task definition as ECS echoes it back
 * (defaults filled in), without the ARN, revision and status, which the caller assigns.
 */
export function validateTaskDefinition(input: Json, registryHost: string): ValidatedTaskDefinition {
  const family = input.family
  if (typeof family !== 'string' || family === '') throw clientError('Family must not be empty.')
  if (!NAME.test(family)) {
    throw clientError(
      'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.'
    )
  }
  const defs = input.containerDefinitions
  if (!Array.isArray(defs) || defs.length === 0)
    throw clientError('Container list cannot be empty.')
  if (defs.length > 10) throw clientError('Too many containers. The maximum is 10.')

  const requires = Array.isArray(input.requiresCompatibilities)
    ? (input.requiresCompatibilities as unknown[]).map(String)
    : []
  for (const c of requires) {
    if (!['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'].includes(c)) {
      throw clientError(`Invalid compatibility: ${c}.`)
    }
  }
  const fargate = requires.includes('FARGATE')
  const networkMode = typeof input.networkMode === 'string' ? input.networkMode : undefined
  if (networkMode !== undefined && !['bridge', 'host', 'awsvpc', 'none'].includes(networkMode)) {
    throw clientError(`Invalid networkMode: ${networkMode}.`)
  }
  const taskCpu = parseCpu(input.cpu)
  const taskMemory = parseMemory(input.memory)

  if (fargate) {
    if (networkMode !== 'awsvpc') throw clientError("Fargate only supports network mode 'awsvpc'.")
    if (taskCpu === undefined)
      throw clientError("Fargate requires that 'cpu' be defined at the task level.")
    if (taskMemory === undefined) {
      throw clientError("Fargate requires that 'memory' be defined at the task level.")
    }
    if (!FARGATE_SIZES[taskCpu]?.includes(taskMemory)) {
      throw clientError(
        `No Fargate configuration exists for given values: ${taskCpu} CPU, ${taskMemory} memory. See the Amazon ECS documentation for the valid values.`
      )
    }
  }

  const names = new Set<string>()
  const containers: Json[] = []
  for (const raw of defs) {
    if (!isObj(raw)) throw clientError('Container definition must be an object.')
    const name = raw.name
    if (typeof name !== 'string' || name === '') {
      throw clientError('Container.name should not be null or empty.')
    }
    if (!NAME.test(name)) {
      throw clientError(
        `Container name '${name}' contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`
      )
    }
    if (names.has(name)) throw clientError(`Duplicate container name '${name}' is not allowed.`)
    names.add(name)
    const image = raw.image
    if (typeof image !== 'string' || image.trim() === '') {
      throw clientError('Container.image should not be null or empty.')
    }
    const memory = typeof raw.memory === 'number' ? raw.memory : undefined
    const reservation =
      typeof raw.memoryReservation === 'number' ? raw.memoryReservation : undefined
    if (memory === undefined && reservation === undefined && taskMemory === undefined) {
      throw clientError(
        `Invalid setting for container '${name}'. At least one of 'memory' or 'memoryReservation' must be specified.`
      )
    }
    if (memory !== undefined && memory < 6) {
      throw clientError(
        `Invalid setting for container '${name}'. The 'memory' value must be at least 6 MiB.`
      )
    }
    if (memory !== undefined && reservation !== undefined && reservation > memory) {
      throw clientError(
        `Invalid setting for container '${name}'. 'memoryReservation' must be less than or equal to 'memory'.`
      )
    }
    if (taskMemory !== undefined && memory !== undefined && memory > taskMemory) {
      throw clientError(
        `Invalid setting for container '${name}'. The container 'memory' (${memory}) is greater than the task 'memory' (${taskMemory}).`
      )
    }
    const ports = Array.isArray(raw.portMappings) ? (raw.portMappings as unknown[]) : []
    const portMappings = ports.map((p) => {
      if (!isObj(p)) throw clientError(`Invalid port mapping for container '${name}'.`)
      const containerPort = p.containerPort
      const out: Json = { ...p }
      if (typeof containerPort === 'number') {
        if (networkMode === 'awsvpc' || networkMode === 'host') {
          if (p.hostPort !== undefined && p.hostPort !== containerPort) {
            throw clientError(
              `When networkMode=${networkMode}, the host ports and container ports in port mappings must match.`
            )
          }
          out.hostPort = containerPort
        }
      }
      out.protocol = typeof p.protocol === 'string' ? p.protocol : 'tcp'
      return out
    })
    const logDriver = isObj(raw.logConfiguration) ? raw.logConfiguration.logDriver : undefined
    if (fargate && typeof input.executionRoleArn !== 'string') {
      if (isEcrImage(image, registryHost)) {
        throw clientError(
          'Fargate requires task definition to have execution role ARN to support ECR images.'
        )
      }
      if (logDriver === 'awslogs') {
        throw clientError(
          'Fargate requires task definition to have execution role ARN to support log driver awslogs.'
        )
      }
    }
    containers.push({
      cpu: 0,
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      ...raw,
      essential: raw.essential ?? true,
      portMappings
    })
  }

  if (!containers.some((c) => c.essential === true)) {
    throw clientError('Task definition must have at least one essential container.')
  }
  for (const c of containers) {
    const name = String(c.name)
    if (Array.isArray(c.links) && c.links.length > 0) {
      if (networkMode === 'awsvpc') {
        throw clientError('Links are not supported when networkMode=awsvpc.')
      }
      for (const link of c.links as unknown[]) {
        const target = String(link).split(':')[0] ?? ''
        if (!names.has(target)) {
          throw clientError(
            `Invalid 'links' setting for container '${name}'. Container '${target}' does not exist in the task definition.`
          )
        }
      }
    }
    if (Array.isArray(c.dependsOn)) {
      for (const dep of c.dependsOn as unknown[]) {
        const target = isObj(dep) ? String(dep.containerName) : ''
        if (!names.has(target)) {
          throw clientError(
            `Invalid 'dependsOn' setting for container '${name}'. Container '${target}' does not exist in the task definition.`
          )
        }
        const condition = isObj(dep) ? dep.condition : undefined
        if (!['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'].includes(String(condition))) {
          throw clientError(
            `Invalid 'dependsOn' condition for container '${name}': ${String(condition)}.`
          )
        }
      }
    }
    if (Array.isArray(c.volumesFrom)) {
      for (const v of c.volumesFrom as unknown[]) {
        const target = isObj(v) ? String(v.sourceContainer) : ''
        if (!names.has(target)) {
          throw clientError(
            `Invalid 'volumesFrom' setting for container '${name}'. Container '${target}' does not exist in the task definition.`
          )
        }
      }
    }
  }

  const body: Json = {
    family,
    containerDefinitions: containers,
    volumes: Array.isArray(input.volumes) ? input.volumes : [],
    placementConstraints: Array.isArray(input.placementConstraints)
      ? input.placementConstraints
      : [],
    requiresAttributes: [],
    compatibilities: fargate ? ['EC2', 'FARGATE'] : ['EC2'],
    requiresCompatibilities: requires.length > 0 ? requires : undefined,
    networkMode: networkMode ?? 'bridge',
    cpu: taskCpu === undefined ? undefined : String(taskCpu),
    memory: taskMemory === undefined ? undefined : String(taskMemory)
  }
  for (const key of [
    'taskRoleArn',
    'executionRoleArn',
    'pidMode',
    'ipcMode',
    'proxyConfiguration',
    'inferenceAccelerators',
    'ephemeralStorage',
    'runtimePlatform',
    'enableFaultInjection'
  ]) {
    if (input[key] !== undefined && input[key] !== null) body[key] = input[key]
  }
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k]
  return { family, containerDefinitions: containers, body }
}
