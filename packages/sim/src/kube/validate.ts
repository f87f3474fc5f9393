/** Defaulting and the validation the API server applies to the modelled kinds (a documented subset). */
import { randomBytes } from 'node:crypto'
import { invalid, type Cause } from './errors.js'
import { isObj, type Obj, str } from './fields.js'
import type { ResourceType } from './resources.js'
import { meta, nameOf } from './store.js'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

function podSpecOf(t: ResourceType, o: Obj): Obj | undefined {
  const spec = o.spec as Obj | undefined
  if (!isObj(spec)) return undefined
  if (t.kind === 'Pod') return spec
  if (t.kind === 'CronJob') {
    const jt = spec.jobTemplate as Obj | undefined
    const tpl = isObj(jt) && isObj(jt.spec) ? (jt.spec.template as Obj | undefined) : undefined
    return isObj(tpl) && isObj(tpl.spec) ? tpl.spec : undefined
  }
  const tpl = spec.template as Obj | undefined
  return isObj(tpl) && isObj(tpl.spec) ? tpl.spec : undefined
}

function defaultPodSpec(ps: Obj, restart: string): void {
  ps.restartPolicy ??= restart
  ps.terminationGracePeriodSeconds ??= 30
  ps.dnsPolicy ??= 'ClusterFirst'
  ps.schedulerName ??= 'default-scheduler'
  ps.securityContext ??= {}
  for (const list of ['initContainers', 'containers']) {
    for (const c of (ps[list] as Obj[] | undefined) ?? []) {
      if (!isObj(c)) continue
      const image = typeof c.image === 'string' ? c.image : ''
      const tagged = /:[\w][\w.-]*$/.test(image.split('/').pop() ?? '') || image.includes('@')
      c.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent'
      c.terminationMessagePath ??= '/dev/termination-log'
      c.terminationMessagePolicy ??= 'File'
      c.resources ??= {}
      for (const p of (c.ports as Obj[] | undefined) ?? []) if (isObj(p)) p.protocol ??= 'TCP'
    }
  }
}

const pct = (v: unknown, d: string): unknown => v ?? d

/** Fills the defaults the API server sets on create/update. */
export function applyDefaults(t: ResourceType, o: Obj): void {
  const spec = isObj(o.spec) ? o.spec : undefined
  switch (t.kind) {
    case 'Deployment':
      if (!spec) return
      spec.replicas ??= 1
      spec.revisionHistoryLimit ??= 10
      spec.progressDeadlineSeconds ??= 600
      if (!isObj(spec.strategy)) spec.strategy = { type: 'RollingUpdate' }
      {
        const st = spec.strategy as Obj
        st.type ??= 'RollingUpdate'
        if (st.type === 'RollingUpdate') {
          const ru = isObj(st.rollingUpdate) ? st.rollingUpdate : {}
          ru.maxSurge = pct(ru.maxSurge, '25%')
          ru.maxUnavailable = pct(ru.maxUnavailable, '25%')
          st.rollingUpdate = ru
        }
      }
      break
    case 'ReplicaSet':
      if (spec) spec.replicas ??= 1
      break
    case 'StatefulSet':
      if (!spec) return
      spec.replicas ??= 1
      spec.podManagementPolicy ??= 'OrderedReady'
      spec.revisionHistoryLimit ??= 10
      if (!isObj(spec.updateStrategy)) spec.updateStrategy = { type: 'RollingUpdate' }
      {
        const us = spec.updateStrategy as Obj
        us.type ??= 'RollingUpdate'
        if (us.type === 'RollingUpdate') {
          const ru = isObj(us.rollingUpdate) ? us.rollingUpdate : {}
          ru.partition ??= 0
          us.rollingUpdate = ru
        }
      }
      break
    case 'DaemonSet':
      if (!spec) return
      spec.revisionHistoryLimit ??= 10
      if (!isObj(spec.updateStrategy)) spec.updateStrategy = { type: 'RollingUpdate' }
      {
        const us = spec.updateStrategy as Obj
        us.type ??= 'RollingUpdate'
        if (us.type === 'RollingUpdate') {
          const ru = isObj(us.rollingUpdate) ? us.rollingUpdate : {}
          ru.maxUnavailable ??= 1
          ru.maxSurge ??= 0
          us.rollingUpdate = ru
        }
      }
      break
    case 'Job':
      if (!spec) return
      spec.completions ??= 1
      spec.parallelism ??= 1
      spec.backoffLimit ??= 6
      spec.completionMode ??= 'NonIndexed'
      spec.suspend ??= false
      {
        const tpl = spec.template as Obj | undefined
        if (isObj(tpl)) {
          const tm = isObj(tpl.metadata) ? tpl.metadata : {}
          tpl.metadata = tm
          const uid = meta(o).uid
          if (!spec.selector && typeof uid === 'string' && spec.manualSelector !== true) {
            spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } }
            tm.labels = {
              ...(tm.labels ?? {}),
              'batch.kubernetes.io/controller-uid': uid,
              'controller-uid': uid,
              'batch.kubernetes.io/job-name': nameOf(o),
              'job-name': nameOf(o)
            }
          }
        }
      }
      break
    case 'CronJob':
      if (!spec) return
      spec.concurrencyPolicy ??= 'Allow'
      spec.suspend ??= false
      spec.successfulJobsHistoryLimit ??= 3
      spec.failedJobsHistoryLimit ??= 1
      break
    case 'Service':
      if (!spec) return
      spec.type ??= 'ClusterIP'
      spec.sessionAffinity ??= 'None'
      spec.ipFamilies ??= ['IPv4']
      spec.ipFamilyPolicy ??= 'SingleStack'
      spec.internalTrafficPolicy ??= 'Cluster'
      if (spec.clusterIP === undefined) {
        const b = randomBytes(2)
        spec.clusterIP = `10.100.${b[0]! % 256}.${(b[1]! % 253) + 1}`
        spec.clusterIPs = [spec.clusterIP]
      }
      for (const p of (spec.ports as Obj[] | undefined) ?? []) {
        if (!isObj(p)) continue
        p.protocol ??= 'TCP'
        p.targetPort ??= p.port
      }
      break
    case 'Namespace':
      o.spec = { finalizers: ['kubernetes'], ...(spec ?? {}) }
      o.status = { phase: 'Active' }
      meta(o).labels = {
        ...(meta(o).labels ?? {}),
        'kubernetes.io/metadata.name': nameOf(o)
      }
      break
    case 'Secret':
      o.type ??= 'Opaque'
      if (isObj(o.stringData)) {
        const data = isObj(o.data) ? o.data : {}
        for (const [k, v] of Object.entries(o.stringData))
          data[k] = Buffer.from(String(v)).toString('base64')
        o.data = data
        delete o.stringData
      }
      break
  }
  const ps = podSpecOf(t, o)
  if (ps) defaultPodSpec(ps, t.kind === 'Job' || t.kind === 'CronJob' ? 'Never' : 'Always')
}

function validateContainers(ps: Obj, base: string, causes: Cause[]): void {
  const containers = ps.containers
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({
      field: `${base}.containers`,
      message: 'Required value',
      reason: 'FieldValueRequired'
    })
    return
  }
  const names = new Set<string>()
  containers.forEach((c: unknown, i) => {
    const p = `${base}.containers[${i}]`
    if (!isObj(c)) return
    if (typeof c.name !== 'string' || !c.name)
      causes.push({ field: `${p}.name`, message: 'Required value', reason: 'FieldValueRequired' })
    else if (!DNS1123_LABEL.test(c.name))
      causes.push({
        field: `${p}.name`,
        message: `Invalid value: "${c.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`
      })
    else if (names.has(c.name))
      causes.push({
        field: `${p}.name`,
        message: `Duplicate value: "${c.name}"`,
        reason: 'FieldValueDuplicate'
      })
    if (typeof c.name === 'string') names.add(c.name)
    if (typeof c.image !== 'string' || !c.image.trim())
      causes.push({ field: `${p}.image`, message: 'Required value', reason: 'FieldValueRequired' })
  })
}

/** Validates a create/update; throws 422 Invalid. */
export function validate(t: ResourceType, o: Obj, old: Obj | undefined): void {
  const name = nameOf(o)
  const causes: Cause[] = []
  if (!name)
    causes.push({
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired'
    })
  else if (
    !(t.kind === 'Namespace' ? DNS1123_LABEL : DNS1123_SUBDOMAIN).test(name) ||
    name.length > 253
  )
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 ${t.kind === 'Namespace' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`
    })
  const spec = isObj(o.spec) ? o.spec : {}
  const withTemplate = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(t.kind)
  if (withTemplate) {
    const sel = spec.selector
    const tpl = isObj(spec.template) ? spec.template : {}
    const tlabels = ((isObj(tpl.metadata) ? tpl.metadata.labels : undefined) ?? {}) as Record<
      string,
      string
    >
    if (!isObj(sel))
      causes.push({
        field: 'spec.selector',
        message: 'Required value',
        reason: 'FieldValueRequired'
      })
    else {
      const ml = (isObj(sel.matchLabels) ? sel.matchLabels : {}) as Record<string, string>
      if (Object.keys(ml).length === 0 && !Array.isArray(sel.matchExpressions))
        causes.push({
          field: 'spec.selector',
          message: 'Invalid value: "null": empty selector is invalid for deployment'
        })
      else if (Object.entries(ml).some(([k, v]) => tlabels[k] !== v))
        causes.push({
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${JSON.stringify(tlabels)}: \`selector\` does not match template \`labels\``
        })
    }
    if (old && isObj(old.spec) && JSON.stringify(old.spec.selector) !== JSON.stringify(sel))
      causes.push({
        field: 'spec.selector',
        message: `Invalid value: ${JSON.stringify(sel)}: field is immutable`
      })
    const ps = isObj(tpl.spec) ? tpl.spec : {}
    validateContainers(ps, 'spec.template.spec', causes)
    if (typeof spec.replicas === 'number' && spec.replicas < 0)
      causes.push({
        field: 'spec.replicas',
        message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`
      })
    if (t.kind === 'Deployment' && ps.restartPolicy !== undefined && ps.restartPolicy !== 'Always')
      causes.push({
        field: 'spec.template.spec.restartPolicy',
        message: `Unsupported value: "${str(ps.restartPolicy)}": supported values: "Always"`,
        reason: 'FieldValueNotSupported'
      })
  }
  if (t.kind === 'Pod') {
    validateContainers(spec, 'spec', causes)
    if (old) {
      const strip = (s: unknown): string => {
        const c = JSON.parse(JSON.stringify(s ?? {})) as Obj
        for (const k of ['containers', 'initContainers'])
          for (const x of (c[k] as Obj[] | undefined) ?? []) delete x.image
        delete c.activeDeadlineSeconds
        delete c.tolerations
        return JSON.stringify(c)
      }
      if (strip(old.spec) !== strip(o.spec))
        causes.push({
          field: 'spec',
          message:
            'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
          reason: 'FieldValueForbidden'
        })
    }
  }
  if (t.kind === 'Job') {
    const tpl = isObj(spec.template) ? spec.template : {}
    const ps = isObj(tpl.spec) ? tpl.spec : {}
    validateContainers(ps, 'spec.template.spec', causes)
    if (ps.restartPolicy !== 'Never' && ps.restartPolicy !== 'OnFailure')
      causes.push({
        field: 'spec.template.spec.restartPolicy',
        message: `Unsupported value: "${String(ps.restartPolicy)}": supported values: "OnFailure", "Never"`,
        reason: 'FieldValueNotSupported'
      })
    if (old && isObj(old.spec)) {
      const os = old.spec
      if (JSON.stringify(os.template) !== JSON.stringify(spec.template))
        causes.push({
          field: 'spec.template',
          message: `Invalid value: ${JSON.stringify(spec.template)}: field is immutable`
        })
      if (JSON.stringify(os.selector) !== JSON.stringify(spec.selector))
        causes.push({
          field: 'spec.selector',
          message: `Invalid value: ${JSON.stringify(spec.selector)}: field is immutable`
        })
    }
  }
  if (t.kind === 'CronJob') {
    if (typeof spec.schedule !== 'string' || !spec.schedule)
      causes.push({
        field: 'spec.schedule',
        message: 'Required value',
        reason: 'FieldValueRequired'
      })
  }
  if (t.kind === 'Service' && old && isObj(old.spec)) {
    const oc = old.spec.clusterIP
    if (oc !== undefined && spec.clusterIP !== oc && oc !== 'None')
      causes.push({
        field: 'spec.clusterIPs[0]',
        message: `Invalid value: []string{"${String(spec.clusterIP)}"}: may not change once set`
      })
  }
  if (t.kind === 'HorizontalPodAutoscaler') {
    const ref = spec.scaleTargetRef
    if (!isObj(ref) || !ref.kind || !ref.name)
      causes.push({
        field: 'spec.scaleTargetRef',
        message: 'Required value',
        reason: 'FieldValueRequired'
      })
    if (typeof spec.maxReplicas !== 'number' || spec.maxReplicas < 1)
      causes.push({
        field: 'spec.maxReplicas',
        message: 'Invalid value: must be greater than or equal to 1'
      })
  }
  if (causes.length > 0) throw invalid(t, name, causes)
}
