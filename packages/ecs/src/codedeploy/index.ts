export {
  appSpecTargets,
  checkAppSpecTargets,
  generateAppSpec,
  HOOK_EVENTS,
  parseAppSpec,
  parseHooks,
  withTaskDefinition,
  type AppSpecDocument,
  type AppSpecHook,
  type AppSpecTarget,
  type HookEvent
} from './appspec.js'
export {
  INSTALL_ALLOWANCE_MINUTES,
  trafficShiftMinutes,
  waitBudget,
  type BlueGreenSettings,
  type WaitBudget
} from './budget.js'
export { checkDeploymentGroup } from './group.js'
export {
  trackCodeDeploy,
  type CodeDeployTrackResult,
  type LifecycleEventRecord
} from './tracker.js'
export {
  codeDeployConsoleUrl,
  deployWithCodeDeploy,
  givenCodeDeployInput,
  prepareCodeDeploy,
  type CodeDeployPlan,
  type CodeDeployReport,
  type CodeDeployRequest
} from './deploy.js'
