/**
 * Amazon ECS (awsJson1_1, X-Amz-Target AmazonEC2ContainerServiceV20141113.*): the operations, their
 * validation and error codes, and the wire shapes of the model in ecs-model.ts.
 */
import { createHash } from 'node:crypto'
import {
  AwsError,
  type AdminHandler,
  type Handler,
  type RequestContext,
  type ServiceModule
} from '../core/types.js'
import {
  EcsModel,
  breakerThreshold,
  clusterName,
  isBehaviour,
  type EcsModelDeps,
  type SimDeployment,
  type SimService,
  type SimServiceDeployment,
  type SimTask,
  type Tag,
  type TaskDef
} from './ecs-model.js'
import { validateTaskDefinition } from './ecs-taskdef.js'
import {
  arr,
  bool,
  compact,
  epoch,
  isObj,
  num,
  obj,
  paginate,
  str,
  type Json,
  text
} from './ecs-util.js'

export type EcsDeps = EcsModelDeps

export interface EcsServiceModule extends ServiceModule {
  model: EcsModel
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', message)
}

function required(input: Json, key: string, code = 'InvalidParameterException'): string {
  const v = str(input, key)
  if (v === undefined || v === '') throw new AwsError(code, `${key} can not be blank.`)
  return v
}

function tagsOf(input: Json): Tag[] {
  const tags = arr<Json>(input, 'tags') ?? []
  return tags.map((t) => {
    if (!isObj(t) || typeof t.key !== 'string') throw invalid('Tag key must be a string.')
    return { key: t.key, value: typeof t.value === 'string' ? t.value : '' }
  })
}

const DEFAULT_DEPLOYMENT_CONFIGURATION: Json = {
  deploymentCircuitBreaker: { enable: false, rollback: false },
  maximumPercent: 200,
  minimumHealthyPercent: 100,
  strategy: 'ROLLING'
}

export function createEcsService(deps: EcsDeps): EcsServiceModule {
  const model = new EcsModel(deps)

  const taskDefOut = (td: TaskDef): Json =>
    compact({
      taskDefinitionArn: td.arn,
      ...td.body,
      revision: td.revision,
      status: td.status,
      registeredAt: epoch(td.registeredAt),
      deregisteredAt: epoch(td.deregisteredAt),
      registeredBy: td.registeredBy
    })

  const taskOut = (t: SimTask): Json =>
    compact({
      taskArn: t.arn,
      clusterArn: t.cluster.arn,
      taskDefinitionArn: t.taskDefinition.arn,
      group: t.group,
      startedBy: t.startedBy,
      launchType: t.launchType,
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
      healthStatus: t.healthStatus,
      cpu: t.taskDefinition.body.cpu as string | undefined,
      memory: t.taskDefinition.body.memory as string | undefined,
      createdAt: epoch(t.createdAt),
      pullStartedAt: epoch(t.pullStartedAt),
      pullStoppedAt: epoch(t.pullStoppedAt),
      startedAt: epoch(t.startedAt),
      connectivity: t.startedAt !== undefined ? 'CONNECTED' : undefined,
      connectivityAt: epoch(t.startedAt),
      stoppingAt: epoch(t.stoppingAt),
      executionStoppedAt: epoch(t.stoppedAt),
      stoppedAt: epoch(t.stoppedAt),
      stopCode: t.stopCode,
      stoppedReason: t.stoppedReason,
      version: t.version,
      platformVersion: t.launchType === 'FARGATE' ? '1.4.0' : undefined,
      platformFamily: t.launchType === 'FARGATE' ? 'Linux' : undefined,
      availabilityZone: `${deps.region}a`,
      tags: t.tags.length > 0 ? t.tags : undefined,
      attachments: [],
      overrides: {
        containerOverrides: t.containers.map((c) => ({ name: c.name })),
        inferenceAcceleratorOverrides: []
      },
      containers: t.containers.map((c) =>
        compact({
          containerArn: c.containerArn,
          taskArn: t.arn,
          name: c.name,
          image: c.image,
          imageDigest: c.imageDigest,
          lastStatus: c.lastStatus,
          exitCode: c.exitCode,
          reason: c.reason,
          healthStatus: c.healthStatus ?? 'UNKNOWN',
          networkBindings: [],
          networkInterfaces: []
        })
      )
    })

  const deploymentOut = (d: SimDeployment): Json =>
    compact({
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition.arn,
      desiredCount: d.draining || d.halted ? 0 : d.desiredCount,
      pendingCount: model.pending(d),
      runningCount: model.running(d),
      failedTasks: d.failedTasks,
      createdAt: epoch(d.createdAt),
      updatedAt: epoch(d.updatedAt),
      launchType: d.launchType,
      platformVersion: d.platformVersion,
      networkConfiguration: d.networkConfiguration,
      volumeConfigurations: d.volumeConfigurations,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason
    })

  const taskSetOut = (svc: SimService, d: SimDeployment): Json =>
    compact({
      id: d.id,
      taskSetArn: d.taskSetArn ?? model.arn(`task-set/${svc.cluster.name}/${svc.name}/${d.id}`),
      serviceArn: svc.arn,
      clusterArn: svc.cluster.arn,
      status: d.draining ? 'DRAINING' : d.status,
      taskDefinition: d.taskDefinition.arn,
      computedDesiredCount: d.draining || d.halted ? 0 : d.desiredCount,
      pendingCount: model.pending(d),
      runningCount: model.running(d),
      createdAt: epoch(d.createdAt),
      updatedAt: epoch(d.updatedAt),
      launchType: d.launchType,
      networkConfiguration: d.networkConfiguration,
      scale: { value: 100, unit: 'PERCENT' },
      stabilityStatus: model.healthy(d) && model.pending(d) === 0 ? 'STEADY_STATE' : 'STABILIZING',
      stabilityStatusAt: epoch(d.updatedAt)
    })

  const serviceOut = (svc: SimService, includeTags: boolean): Json => {
    const live = svc.deployments
    const sd = svc.serviceDeployments[0]
    return compact({
      serviceArn: svc.arn,
      serviceName: svc.name,
      clusterArn: svc.cluster.arn,
      loadBalancers: svc.loadBalancers,
      serviceRegistries: [],
      status: svc.status,
      desiredCount: svc.desiredCount,
      runningCount: live.reduce((n, d) => n + model.running(d), 0),
      pendingCount: live.reduce((n, d) => n + model.pending(d), 0),
      launchType: svc.launchType,
      platformVersion: svc.platformVersion,
      taskDefinition: live[0]?.taskDefinition.arn,
      deploymentConfiguration: svc.deploymentConfiguration,
      deployments: svc.controller === 'ECS' ? live.map(deploymentOut) : [],
      taskSets: svc.controller === 'CODE_DEPLOY' ? live.map((d) => taskSetOut(svc, d)) : undefined,
      events: svc.events.map((e) => ({
        id: e.id,
        createdAt: epoch(e.createdAt),
        message: e.message
      })),
      createdAt: epoch(svc.createdAt),
      createdBy: svc.createdBy,
      currentServiceDeployment: sd?.arn,
      placementConstraints: [],
      placementStrategy: [],
      networkConfiguration: svc.networkConfiguration,
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: svc.controller },
      enableECSManagedTags: svc.extra.enableECSManagedTags ?? false,
      propagateTags: svc.extra.propagateTags ?? 'NONE',
      enableExecuteCommand: svc.extra.enableExecuteCommand ?? false,
      healthCheckGracePeriodSeconds: svc.extra.healthCheckGracePeriodSeconds,
      roleArn: svc.extra.role,
      tags: includeTags ? svc.tags : undefined
    })
  }

  const revisionOut = (d: SimDeployment | undefined, arn: string, weighted: boolean): Json =>
    compact({
      arn,
      requestedTaskCount: d ? (d.draining || d.halted ? 0 : d.desiredCount) : 0,
      runningTaskCount: d ? model.running(d) : 0,
      pendingTaskCount: d ? model.pending(d) : 0,
      // Traffic weights exist in BLUE_GREEN / CANARY / LINEAR service deployments only.
      requestedProductionTrafficWeight: weighted ? (d?.trafficWeight ?? 0) : undefined
    })

  const serviceDeploymentOut = (sd: SimServiceDeployment): Json =>
    compact({
      serviceDeploymentArn: sd.arn,
      serviceArn: sd.service.arn,
      clusterArn: sd.service.cluster.arn,
      createdAt: epoch(sd.createdAt),
      startedAt: epoch(sd.startedAt),
      finishedAt: epoch(sd.finishedAt),
      stoppedAt: epoch(sd.stoppedAt),
      updatedAt: epoch(sd.updatedAt),
      sourceServiceRevisions: sd.sources.map((s) =>
        revisionOut(s.deployment, s.revisionArn, sd.strategy !== 'ROLLING')
      ),
      targetServiceRevision: revisionOut(
        sd.target,
        sd.target.revisionArn,
        sd.strategy !== 'ROLLING'
      ),
      status: sd.status,
      statusReason: sd.statusReason,
      lifecycleStage: sd.lifecycleStage,
      // Hooks that have started (a hook of a later stage has no status yet and is not shown).
      lifecycleHookDetails: sd.hooks.some((h) => h.status !== 'PENDING')
        ? sd.hooks
            .filter((h) => h.status !== 'PENDING')
            .map((h) =>
              compact({
                hookId: h.hookId,
                targetType: h.targetType,
                targetArn: h.targetType === 'PAUSE' ? undefined : h.targetArn,
                status: h.status,
                expiresAt: epoch(h.expiresAt),
                timeoutAction: h.timeoutAction
              })
            )
        : undefined,
      deploymentConfiguration: sd.configuration,
      rollback: sd.rollback
        ? {
            reason: sd.rollback.reason,
            startedAt: epoch(sd.rollback.startedAt),
            serviceRevisionArn: sd.rollback.serviceRevisionArn
          }
        : undefined,
      deploymentCircuitBreaker: {
        status: sd.breaker.status,
        failureCount: sd.target.failedTasks,
        threshold: sd.breaker.threshold
      },
      alarms: { status: 'DISABLED' }
    })

  const activeTaskDef = (ref: string | undefined, what = 'TaskDefinition'): TaskDef => {
    if (ref === undefined || ref === '') throw invalid(`${what} can not be blank.`)
    const td = model.findTaskDefinition(ref)
    if (!td) throw new AwsError('ClientException', 'Unable to describe task definition.')
    if (td.status !== 'ACTIVE') throw new AwsError('ClientException', `TaskDefinition is inactive`)
    return td
  }

  /** ServiceVolumeConfiguration[]: each names a task-definition volume that is `configuredAtLaunch`. */
  const volumeConfigurations = (td: TaskDef, input: Json): Json[] | undefined => {
    const list = arr<Json>(input, 'volumeConfigurations')
    if (list === undefined) return undefined
    const atLaunch = ((td.body.volumes as Json[] | undefined) ?? []).filter(
      (v) => v.configuredAtLaunch === true
    )
    if (list.length > 1) throw invalid('Only one volume can be configured at launch per service.')
    for (const v of list) {
      const name = str(v, 'name')
      if (!name) throw invalid('volumeConfigurations[].name is required.')
      if (!atLaunch.some((a) => a.name === name)) {
        throw invalid(
          `The volume ${name} in volumeConfigurations is not configured at launch in the task definition.`
        )
      }
    }
    return list.length ? list : undefined
  }

  const networkCheck = (td: TaskDef, launchType: string, network: Json | undefined): void => {
    if (launchType === 'FARGATE' && !(td.body.compatibilities as string[]).includes('FARGATE')) {
      throw invalid('Task definition does not support launch_type FARGATE.')
    }
    if (td.body.networkMode === 'awsvpc') {
      const vpc =
        network && isObj(network.awsvpcConfiguration) ? network.awsvpcConfiguration : undefined
      if (!vpc)
        throw invalid(
          "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
      if (!Array.isArray(vpc.subnets) || vpc.subnets.length === 0)
        throw invalid('subnets can not be empty.')
    }
  }

  const mergeDeploymentConfiguration = (base: Json, patch: Json | undefined): Json => {
    const out: Json = { ...base, ...(patch ?? {}) }
    const cb = patch?.deploymentCircuitBreaker
    if (cb !== undefined && !isObj(cb)) throw invalid('deploymentCircuitBreaker must be an object.')
    const strategy = text(out.strategy, 'ROLLING')
    if (!['ROLLING', 'BLUE_GREEN', 'CANARY', 'LINEAR'].includes(strategy)) {
      throw invalid(`Invalid deployment strategy: ${strategy}.`)
    }
    const bake = out.bakeTimeInMinutes
    if (bake !== undefined && (typeof bake !== 'number' || bake < 0 || bake > 1440)) {
      throw invalid('bakeTimeInMinutes must be between 0 and 1440.')
    }
    if (strategy === 'CANARY') {
      const c = isObj(out.canaryConfiguration) ? out.canaryConfiguration : {}
      const pct = c.canaryPercent
      if (pct !== undefined && (typeof pct !== 'number' || pct <= 0 || pct >= 100)) {
        throw invalid('canaryPercent must be greater than 0 and less than 100.')
      }
    }
    if (strategy === 'LINEAR') {
      const l = isObj(out.linearConfiguration) ? out.linearConfiguration : {}
      const pct = l.stepPercent
      if (pct !== undefined && (typeof pct !== 'number' || pct < 3 || pct > 100)) {
        throw invalid('stepPercent must be between 3 and 100.')
      }
    }
    for (const hook of (out.lifecycleHooks as unknown[] | undefined) ?? []) {
      if (!isObj(hook)) throw invalid('lifecycleHooks must be a list of objects.')
      if (strategy === 'ROLLING')
        throw invalid(
          'Lifecycle hooks are only supported for BLUE_GREEN, CANARY and LINEAR deployments.'
        )
    }
    if (!isObj(out.deploymentCircuitBreaker))
      out.deploymentCircuitBreaker = { enable: false, rollback: false }
    return out
  }

  const handlers: Record<string, Handler> = {
    CreateCluster: (input) => {
      const name = str(input, 'clusterName') ?? 'default'
      const c = model.createCluster(name, tagsOf(input), arr<Json>(input, 'settings') ?? [])
      return { cluster: clusterOut(c.name) }
    },

    DescribeClusters: (input) => {
      model.sync()
      const refs = arr<string>(input, 'clusters') ?? ['default']
      const include = arr<string>(input, 'include') ?? []
      const clusters: Json[] = []
      const failures: Json[] = []
      for (const ref of refs) {
        const name = clusterName(String(ref))
        if (model.clusters.get(name)?.status === 'ACTIVE')
          clusters.push(clusterOut(name, include.includes('TAGS')))
        else failures.push({ arn: model.arn(`cluster/${name}`), reason: 'MISSING' })
      }
      return { clusters, failures }
    },

    RegisterTaskDefinition: (input, ctx) => {
      const { family, body } = validateTaskDefinition(input, deps.registry.host)
      const revs = model.families.get(family) ?? []
      const revision = (revs[revs.length - 1]?.revision ?? 0) + 1
      const td: TaskDef = {
        arn: model.arn(`task-definition/${family}:${revision}`),
        family,
        revision,
        status: 'ACTIVE',
        body,
        tags: tagsOf(input),
        registeredAt: ctx.clock.now(),
        registeredBy: ctx.caller?.arn
      }
      revs.push(td)
      model.families.set(family, revs)
      return { taskDefinition: taskDefOut(td), tags: td.tags }
    },

    DescribeTaskDefinition: (input, ctx) => {
      const ref = required(input, 'taskDefinition', 'ClientException')
      // An ARN names its region and account: ECS refuses an ARN of another region than the endpoint's
      // ("Invalid Region in ARN"), and the stack's task definitions live in one region and one account only.
      const arn = /^arn:aws[a-z-]*:ecs:([^:]*):([^:]*):task-definition\//.exec(ref)
      if (arn && arn[1] !== ctx.region) throw invalid('Invalid Region in ARN')
      const here = ctx.region === deps.region && (!arn || arn[2] === deps.accountId)
      const td = here ? model.findTaskDefinition(ref) : undefined
      if (!td) throw new AwsError('ClientException', 'Unable to describe task definition.')
      const include = arr<string>(input, 'include') ?? []
      return compact({
        taskDefinition: taskDefOut(td),
        tags: include.includes('TAGS') ? td.tags : undefined
      })
    },

    DeregisterTaskDefinition: (input, ctx) => {
      const ref = required(input, 'taskDefinition', 'ClientException')
      if (!/:\d+$/.test(ref)) {
        throw invalid(
          'A revision must be specified when deregistering a task definition (family:revision or full ARN).'
        )
      }
      const td = model.findTaskDefinition(ref)
      if (!td)
        throw new AwsError('ClientException', 'The specified task definition does not exist.')
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE'
        td.deregisteredAt = ctx.clock.now()
      }
      return { taskDefinition: taskDefOut(td) }
    },

    ListTaskDefinitions: (input) => {
      const prefix = str(input, 'familyPrefix')
      const status = str(input, 'status') ?? 'ACTIVE'
      if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status))
        throw invalid(`Invalid status: ${status}.`)
      const sort = str(input, 'sort') ?? 'ASC'
      let all: TaskDef[] = []
      for (const [family, revs] of model.families) {
        if (prefix !== undefined && family !== prefix) continue
        all.push(...revs.filter((t) => t.status === status))
      }
      all.sort((a, b) =>
        a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1
      )
      if (sort === 'DESC') all = all.reverse()
      const { page, nextToken } = paginate(all, str(input, 'nextToken'), num(input, 'maxResults'), {
        max: 100,
        salt: `td:${prefix ?? ''}:${status}:${sort}`,
        errorCode: 'InvalidParameterException'
      })
      return compact({ taskDefinitionArns: page.map((t) => t.arn), nextToken })
    },

    CreateService: async (input, ctx) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const name = required(input, 'serviceName')
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
        throw invalid(
          'Service name can only contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.'
        )
      }
      const existing = model.service(cluster, name)
      if (existing && existing.status !== 'INACTIVE')
        throw invalid('Creation of service was not idempotent.')
      const controllerIn = obj(input, 'deploymentController')
      const controller = text(controllerIn?.type, 'ECS')
      if (!['ECS', 'CODE_DEPLOY', 'EXTERNAL'].includes(controller))
        throw invalid(`Invalid deployment controller: ${controller}.`)
      if (controller === 'EXTERNAL')
        throw invalid('The EXTERNAL deployment controller is not simulated.')
      const td = activeTaskDef(str(input, 'taskDefinition'))
      const desired = num(input, 'desiredCount')
      if (desired === undefined)
        throw invalid('The desiredCount parameter is required for the REPLICA scheduling strategy.')
      if (desired < 0) throw invalid('desiredCount must be greater than or equal to 0.')
      const launchType = str(input, 'launchType') ?? 'EC2'
      const network = obj(input, 'networkConfiguration')
      networkCheck(td, launchType, network)
      const cfg = mergeDeploymentConfiguration(
        DEFAULT_DEPLOYMENT_CONFIGURATION,
        obj(input, 'deploymentConfiguration')
      )
      if (controller === 'CODE_DEPLOY') {
        delete cfg.strategy
        const cb = cfg.deploymentCircuitBreaker as Json
        if (cb.enable === true) {
          throw invalid(
            'The deployment circuit breaker is only supported for services using the ECS deployment controller.'
          )
        }
        delete cfg.deploymentCircuitBreaker
      }
      const now = ctx.clock.now()
      model.sync(now)
      const svc: SimService = {
        name,
        arn: model.arn(`service/${cluster.name}/${name}`),
        cluster,
        status: 'ACTIVE',
        desiredCount: desired,
        controller: controller as SimService['controller'],
        deploymentConfiguration: cfg,
        launchType,
        networkConfiguration: network,
        volumeConfigurations: volumeConfigurations(td, input),
        loadBalancers: arr<Json>(input, 'loadBalancers') ?? [],
        platformVersion:
          launchType === 'FARGATE' ? (str(input, 'platformVersion') ?? 'LATEST') : undefined,
        createdAt: now,
        createdBy: ctx.caller?.arn,
        events: [],
        deployments: [],
        serviceDeployments: [],
        tags: tagsOf(input),
        extra: {
          enableECSManagedTags: bool(input, 'enableECSManagedTags'),
          propagateTags: str(input, 'propagateTags'),
          enableExecuteCommand: bool(input, 'enableExecuteCommand'),
          healthCheckGracePeriodSeconds: num(input, 'healthCheckGracePeriodSeconds'),
          role: str(input, 'role')
        }
      }
      model.services.set(`${cluster.name}/${name}`, svc)
      if (controller === 'CODE_DEPLOY') {
        const ts = await model.createTaskSet(svc, td, now)
        model.promoteTaskSet(svc, ts, now)
        svc.events.length = 0
      } else {
        await model.deploy(svc, td, now)
      }
      return { service: serviceOut(svc, false) }
    },

    UpdateService: async (input, ctx) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const svc = model.service(cluster, required(input, 'service'))
      if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.')
      if (svc.status !== 'ACTIVE')
        throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.')
      const now = ctx.clock.now()
      model.sync(now)
      const tdRef = str(input, 'taskDefinition')
      const force = bool(input, 'forceNewDeployment') === true
      const current = svc.deployments[0]?.taskDefinition
      if (svc.controller === 'CODE_DEPLOY') {
        if (tdRef !== undefined) {
          const td = model.findTaskDefinition(tdRef)
          if (td !== current) {
            throw invalid(
              'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
            )
          }
        }
        if (force) {
          throw invalid(
            'Unable to force a new deployment on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
          )
        }
        if (input.networkConfiguration !== undefined || input.platformVersion !== undefined) {
          throw invalid(
            'Unable to update network parameters on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
          )
        }
      }
      const td = tdRef === undefined ? current : activeTaskDef(tdRef)
      if (!td) throw invalid('TaskDefinition not found.')
      const network = obj(input, 'networkConfiguration') ?? svc.networkConfiguration
      networkCheck(td, svc.launchType, network)
      const desired = num(input, 'desiredCount')
      if (desired !== undefined && desired < 0)
        throw invalid('desiredCount must be greater than or equal to 0.')
      const cfgIn = obj(input, 'deploymentConfiguration')
      if (cfgIn)
        svc.deploymentConfiguration = mergeDeploymentConfiguration(
          svc.deploymentConfiguration,
          cfgIn
        )
      if (desired !== undefined) {
        svc.desiredCount = desired
        const primary = svc.deployments[0]
        if (primary) primary.desiredCount = desired
        const sd = primary?.serviceDeployment
        if (sd)
          sd.breaker.threshold = breakerThreshold(
            svc.deploymentConfiguration.deploymentCircuitBreaker as Json,
            desired
          )
      }
      for (const key of ['enableECSManagedTags', 'enableExecuteCommand'] as const) {
        const v = bool(input, key)
        if (v !== undefined) svc.extra[key] = v
      }
      const networkChanged = input.networkConfiguration !== undefined
      // Omitted (null) keeps the service's volume configuration; a different one (an empty list included)
      // replaces it and starts a deployment.
      let volumesChanged = false
      if (input.volumeConfigurations !== undefined && input.volumeConfigurations !== null) {
        const next = volumeConfigurations(td, input)
        volumesChanged =
          JSON.stringify(next ?? []) !== JSON.stringify(svc.volumeConfigurations ?? [])
        svc.volumeConfigurations = next
      } else if (td !== current) {
        volumeConfigurations(td, { volumeConfigurations: svc.volumeConfigurations ?? [] })
      }
      if (
        svc.controller === 'ECS' &&
        (td !== current || force || networkChanged || volumesChanged)
      ) {
        svc.networkConfiguration = network
        await model.deploy(svc, td, now)
      } else {
        model.sync(now)
      }
      return { service: serviceOut(svc, false) }
    },

    DeleteService: (input, ctx) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const svc = model.service(cluster, required(input, 'service'))
      if (!svc || svc.status === 'INACTIVE')
        throw new AwsError('ServiceNotFoundException', 'Service not found.')
      const now = ctx.clock.now()
      model.sync(now)
      if (svc.desiredCount > 0 && bool(input, 'force') !== true) {
        throw invalid('The service cannot be stopped while it is scaled above 0.')
      }
      svc.status = 'DRAINING'
      svc.desiredCount = 0
      model.sync(now)
      return { service: serviceOut(svc, false) }
    },

    DescribeServices: (input) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const refs = arr<string>(input, 'services')
      if (!refs || refs.length === 0) throw invalid('Services cannot be empty.')
      if (refs.length > 10) throw invalid('Only 10 services can be described at a time.')
      model.sync()
      const include = arr<string>(input, 'include') ?? []
      const services: Json[] = []
      const failures: Json[] = []
      for (const ref of refs) {
        const svc = model.service(cluster, String(ref))
        if (svc) services.push(serviceOut(svc, include.includes('TAGS')))
        else {
          const n = String(ref).startsWith('arn:')
            ? String(ref)
            : model.arn(`service/${cluster.name}/${String(ref)}`)
          failures.push({ arn: n, reason: 'MISSING' })
        }
      }
      return { services, failures }
    },

    ListServices: (input) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const all = [...model.services.values()].filter(
        (s) => s.cluster === cluster && s.status !== 'INACTIVE'
      )
      const { page, nextToken } = paginate(all, str(input, 'nextToken'), num(input, 'maxResults'), {
        max: 100,
        salt: `svc:${cluster.name}`,
        errorCode: 'InvalidParameterException'
      })
      return compact({ serviceArns: page.map((s) => s.arn), nextToken })
    },

    ListServiceDeployments: (input) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const svc = model.service(cluster, required(input, 'service'))
      if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.')
      model.sync()
      const statuses = arr<string>(input, 'status')
      const created = obj(input, 'createdAt')
      const before = typeof created?.before === 'number' ? created.before * 1000 : undefined
      const after = typeof created?.after === 'number' ? created.after * 1000 : undefined
      const all = svc.serviceDeployments.filter(
        (sd) =>
          (!statuses || statuses.includes(sd.status)) &&
          (before === undefined || sd.createdAt < before) &&
          (after === undefined || sd.createdAt > after)
      )
      const { page, nextToken } = paginate(all, str(input, 'nextToken'), num(input, 'maxResults'), {
        max: 100,
        salt: `sd:${svc.arn}:${(statuses ?? []).join(',')}`,
        errorCode: 'InvalidParameterException'
      })
      return compact({
        serviceDeployments: page.map((sd) =>
          compact({
            serviceDeploymentArn: sd.arn,
            serviceArn: svc.arn,
            clusterArn: cluster.arn,
            startedAt: epoch(sd.startedAt),
            createdAt: epoch(sd.createdAt),
            finishedAt: epoch(sd.finishedAt),
            targetServiceRevisionArn: sd.target.revisionArn,
            status: sd.status,
            statusReason: sd.statusReason
          })
        ),
        nextToken
      })
    },

    DescribeServiceDeployments: (input) => {
      const arns = arr<string>(input, 'serviceDeploymentArns')
      if (!arns || arns.length === 0) throw invalid('serviceDeploymentArns can not be empty.')
      if (arns.length > 20) throw invalid('Only 20 service deployments can be described at a time.')
      model.sync()
      const serviceDeployments: Json[] = []
      const failures: Json[] = []
      for (const arn of arns) {
        const sd = findServiceDeployment(String(arn))
        if (sd) serviceDeployments.push(serviceDeploymentOut(sd))
        else failures.push({ arn: String(arn), reason: 'MISSING' })
      }
      return { serviceDeployments, failures }
    },

    StopServiceDeployment: (input, ctx) => {
      const arn = required(input, 'serviceDeploymentArn')
      const stopType = str(input, 'stopType') ?? 'ROLLBACK'
      if (!['ROLLBACK', 'ABORT'].includes(stopType)) throw invalid(`Invalid stopType: ${stopType}.`)
      const now = ctx.clock.now()
      const sd = syncedServiceDeployment(arn, now)
      if (sd.status !== 'IN_PROGRESS' && sd.status !== 'PENDING') {
        throw new AwsError(
          'ConflictException',
          `The service deployment is in ${sd.status} status and can't be stopped.`
        )
      }
      if (stopType === 'ROLLBACK' && !sd.service.lastCompleted) {
        throw new AwsError(
          'ConflictException',
          'The service deployment has no completed service revision to roll back to.'
        )
      }
      sd.status = stopType === 'ROLLBACK' ? 'ROLLBACK_REQUESTED' : 'STOP_REQUESTED'
      sd.stopRequested = stopType as 'ROLLBACK' | 'ABORT'
      sd.updatedAt = now
      return { serviceDeploymentArn: sd.arn }
    },

    ContinueServiceDeployment: (input, ctx) => {
      const arn = required(input, 'serviceDeploymentArn')
      const hookId = required(input, 'hookId')
      const action = str(input, 'action') ?? 'CONTINUE'
      if (!['CONTINUE', 'ROLLBACK'].includes(action)) throw invalid(`Invalid action: ${action}.`)
      const now = ctx.clock.now()
      const sd = syncedServiceDeployment(arn, now)
      const hook = sd.hooks.find((h) => h.hookId === hookId)
      if (!hook)
        throw invalid(`The lifecycle hook ${hookId} does not exist in this service deployment.`)
      if (sd.status !== 'IN_PROGRESS' || hook.status !== 'AWAITING_ACTION') {
        throw new AwsError(
          'ConflictException',
          `The lifecycle hook ${hookId} is in ${hook.status === 'PENDING' ? 'a later stage' : hook.status} status and the service deployment in ${sd.status} status: only a hook AWAITING_ACTION can be continued or rolled back.`
        )
      }
      hook.status = 'SUCCEEDED'
      sd.updatedAt = now
      if (action === 'ROLLBACK') {
        model.rollBackForHook(
          sd.service,
          sd,
          `Service deployment rolled back by ContinueServiceDeployment at stage ${hook.stage}.`,
          now
        )
      }
      model.sync(now)
      return { serviceDeploymentArn: sd.arn }
    },

    RunTask: async (input, ctx) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const td = activeTaskDef(str(input, 'taskDefinition'))
      const count = num(input, 'count') ?? 1
      if (!Number.isInteger(count) || count < 1 || count > 10)
        throw invalid('count must be between 1 and 10.')
      const launchType = str(input, 'launchType') ?? 'EC2'
      networkCheck(td, launchType, obj(input, 'networkConfiguration'))
      const startedBy = str(input, 'startedBy')
      if (startedBy !== undefined && startedBy.length > 128)
        throw invalid('startedBy must be at most 128 characters.')
      const { behaviour, digests } = await model.behaviourFor(td)
      const now = ctx.clock.now()
      model.sync(now)
      const tasks: SimTask[] = []
      for (let i = 0; i < count; i++) {
        tasks.push(
          model.launchTask({
            cluster,
            taskDefinition: td,
            behaviour,
            digests,
            at: now,
            group: str(input, 'group') ?? `family:${td.family}`,
            startedBy,
            launchType,
            tags: tagsOf(input)
          })
        )
      }
      return { tasks: tasks.map(taskOut), failures: [] }
    },

    DescribeTasks: (input) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const refs = arr<string>(input, 'tasks')
      if (!refs || refs.length === 0) throw invalid('Tasks cannot be empty.')
      if (refs.length > 100) throw invalid('Only 100 tasks can be described at a time.')
      model.sync()
      const include = arr<string>(input, 'include') ?? []
      const tasks: Json[] = []
      const failures: Json[] = []
      for (const ref of refs) {
        const t = findTask(cluster.name, String(ref))
        if (t) {
          const out = taskOut(t)
          if (!include.includes('TAGS')) delete out.tags
          tasks.push(out)
        } else {
          failures.push({
            arn: String(ref).startsWith('arn:')
              ? String(ref)
              : model.arn(`task/${cluster.name}/${String(ref)}`),
            reason: 'MISSING'
          })
        }
      }
      return { tasks, failures }
    },

    ListTasks: (input) => {
      const cluster = model.cluster(str(input, 'cluster'))
      model.sync()
      const serviceName = str(input, 'serviceName')
      if (serviceName !== undefined && !model.service(cluster, serviceName)) {
        throw new AwsError('ServiceNotFoundException', 'Service not found.')
      }
      const family = str(input, 'family')
      const startedBy = str(input, 'startedBy')
      const desired = str(input, 'desiredStatus') ?? 'RUNNING'
      if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desired))
        throw invalid(`Invalid desiredStatus: ${desired}.`)
      const launchType = str(input, 'launchType')
      const svcName = serviceName?.startsWith('arn:') ? serviceName.split('/').pop() : serviceName
      const all = [...model.tasks.values()].filter(
        (t) =>
          t.cluster === cluster &&
          (svcName === undefined || t.group === `service:${svcName}`) &&
          (family === undefined || t.taskDefinition.family === family) &&
          (startedBy === undefined || t.startedBy === startedBy) &&
          (launchType === undefined || t.launchType === launchType) &&
          (desired === 'STOPPED' ? t.desiredStatus === 'STOPPED' : t.desiredStatus === 'RUNNING')
      )
      const { page, nextToken } = paginate(all, str(input, 'nextToken'), num(input, 'maxResults'), {
        max: 100,
        salt: `tasks:${cluster.name}:${svcName ?? ''}:${family ?? ''}:${startedBy ?? ''}:${desired}`,
        errorCode: 'InvalidParameterException'
      })
      return compact({ taskArns: page.map((t) => t.arn), nextToken })
    },

    StopTask: (input, ctx) => {
      const cluster = model.cluster(str(input, 'cluster'))
      const ref = required(input, 'task')
      const now = ctx.clock.now()
      model.sync(now)
      const t = findTask(cluster.name, ref)
      if (!t) throw invalid('The referenced task was not found.')
      const reason = str(input, 'reason')
      if (reason !== undefined && reason.length > 255)
        throw invalid('reason must be at most 255 characters.')
      model.stopTask(t, now, 'UserInitiated', reason ?? 'Task stopped by user')
      return { task: taskOut(t) }
    }
  }

  function clusterOut(name: string, withTags = false): Json {
    const c = model.clusters.get(name)!
    const tasks = [...model.tasks.values()].filter((t) => t.cluster === c)
    return compact({
      clusterArn: c.arn,
      clusterName: c.name,
      status: c.status,
      registeredContainerInstancesCount: 0,
      runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingTasksCount: tasks.filter((t) => ['PROVISIONING', 'PENDING'].includes(t.lastStatus))
        .length,
      activeServicesCount: [...model.services.values()].filter(
        (s) => s.cluster === c && s.status === 'ACTIVE'
      ).length,
      statistics: [],
      tags: withTags ? c.tags : undefined,
      settings:
        c.settings.length > 0 ? c.settings : [{ name: 'containerInsights', value: 'disabled' }],
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: []
    })
  }

  function findServiceDeployment(arn: string): SimServiceDeployment | undefined {
    for (const svc of model.services.values()) {
      const sd = svc.serviceDeployments.find((x) => x.arn === arn)
      if (sd) return sd
    }
    return undefined
  }
  /** The service deployment `arn` as of `now` (ServiceDeploymentNotFoundException when there is none). */
  function syncedServiceDeployment(arn: string, now: number): SimServiceDeployment {
    model.sync(now)
    const sd = findServiceDeployment(arn)
    if (!sd)
      throw new AwsError(
        'ServiceDeploymentNotFoundException',
        'The service deployment does not exist.'
      )
    return sd
  }

  function findTask(cluster: string, ref: string): SimTask | undefined {
    if (ref.startsWith('arn:')) {
      const t = model.tasks.get(ref)
      return t && t.cluster.name === cluster ? t : undefined
    }
    return model.tasks.get(model.arn(`task/${cluster}/${ref}`))
  }

  const fakeCtx = (): RequestContext => ({
    caller: undefined,
    region: deps.region,
    accountId: deps.accountId,
    requestId: 'admin',
    clock: deps.clock
  })

  const admin: Record<string, AdminHandler> = {
    /** One call: {clusters: [name | {clusterName, tags}], taskDefinitions: [RegisterTaskDefinition input], services: [CreateService input]}. */
    seed: async (body) => {
      const out: Json = { clusters: [], taskDefinitions: [], services: [] }
      for (const c of (body.clusters as unknown[] | undefined) ?? []) {
        const input: Json = typeof c === 'string' ? { clusterName: c } : (c as Json)
        const r = (await handlers.CreateCluster!(input, fakeCtx())) as Json
        ;(out.clusters as unknown[]).push((r.cluster as Json).clusterArn)
      }
      for (const td of (body.taskDefinitions as Json[] | undefined) ?? []) {
        const r = (await handlers.RegisterTaskDefinition!(td, fakeCtx())) as Json
        ;(out.taskDefinitions as unknown[]).push((r.taskDefinition as Json).taskDefinitionArn)
      }
      for (const s of (body.services as Json[] | undefined) ?? []) {
        const r = (await handlers.CreateService!(s, fakeCtx())) as Json
        ;(out.services as unknown[]).push((r.service as Json).serviceArn)
      }
      return out
    },
    /** {image | label | taskDefinition, behaviour, exitCode}; {clear: true} removes all scenarios. */
    scenario: (body) => {
      if (body.clear === true) {
        model.scenarios.length = 0
        return { scenarios: [] }
      }
      const behaviour = text(body.behaviour, '')
      if (!isBehaviour(behaviour)) {
        throw invalid('behaviour must be one of healthy, crash, unhealthy, slow-start, exit.')
      }
      const sel = ['image', 'label', 'taskDefinition'].filter((k) => typeof body[k] === 'string')
      if (sel.length !== 1) throw invalid('Give exactly one of image, label, taskDefinition.')
      model.scenarios.unshift(
        compact({
          image: body.image as string | undefined,
          label: body.label as string | undefined,
          taskDefinition: body.taskDefinition as string | undefined,
          behaviour,
          exitCode: typeof body.exitCode === 'number' ? body.exitCode : undefined
        })
      )
      return { scenarios: model.scenarios }
    },
    /**
     * {images: {"<ref>": {digest?, labels?}} | ["<ref>", …]}: images that tasks can pull although the local
     * registry does not hold them (public images); {clear: true} forgets them.
     */
    images: (body) => {
      if (body.clear === true) model.externalImages.clear()
      const images = body.images
      const entries: [string, unknown][] = Array.isArray(images)
        ? images.map((r) => [String(r), {}])
        : isObj(images)
          ? Object.entries(images)
          : []
      for (const [ref, v] of entries) {
        const spec = isObj(v) ? v : {}
        const digest =
          typeof spec.digest === 'string'
            ? spec.digest
            : `sha256:${createHash('sha256').update(ref).digest('hex')}`
        const labels = isObj(spec.labels) ? (spec.labels as Record<string, string>) : {}
        model.externalImages.set(ref, { digest, labels })
      }
      return { images: Object.fromEntries(model.externalImages) }
    },
    /** GET ?cluster=&service= → the service as DescribeServices shows it, its service deployments and tasks. */
    service: (body, query) => {
      const cluster = model.cluster(query.get('cluster') ?? (body.cluster as string | undefined))
      const name = query.get('service') ?? (body.service as string | undefined) ?? ''
      const svc = model.service(cluster, name)
      if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.')
      model.sync()
      return {
        service: serviceOut(svc, true),
        serviceDeployments: svc.serviceDeployments.map(serviceDeploymentOut),
        tasks: [...model.tasks.values()]
          .filter((t) => t.group === `service:${svc.name}` && t.cluster === cluster)
          .map(taskOut)
      }
    }
  }

  return {
    signingName: 'ecs',
    protocol: 'json1.1',
    targetPrefix: 'AmazonEC2ContainerServiceV20141113',
    handlers,
    admin,
    model
  }
}
