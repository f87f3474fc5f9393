export {
  consoleUrl,
  deployToEcs,
  type DeployDeps,
  type DeployReport,
  type DeployRequest,
  type StrategyRequest,
  strategyConfiguration
} from './deploy.js'
export { diffTaskDefinitions, normaliseForDiff, type FieldChange } from './diff.js'
export {
  describeGroups,
  groupStoppedTasks,
  hintFor,
  isUnableEvent,
  reasonKey,
  stoppedByFailure,
  type StoppedGroup
} from './diagnose.js'
export { DEFAULT_POLL, PollInterval, sleepUnlessAborted, type PollOptions } from './poll.js'
export { runTaskBefore } from './run-task.js'
export {
  formatMs,
  isLifecycleStage,
  LIFECYCLE_STAGE_ORDER,
  type LifecycleStage,
  type StageRecord,
  stageReached,
  StageWatcher,
  trafficSplit
} from './stages.js'
export {
  DeploymentTracker,
  type DeployStatus,
  type TimelineEntry,
  type TrackResult
} from './tracker.js'
export { type Check, type CheckStatus, verifyDeployment, type VerifyClients } from './verify.js'
