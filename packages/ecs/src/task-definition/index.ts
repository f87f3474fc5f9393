// The task-definition API of @shipline/aws (render-task-def). Generic helpers (edit distance, plain-object
// checks, schema shapes) stay internal to this folder so the package barrel cannot collide.
export {
  describeTaskDefinitionSource,
  taskDefinitionRegion,
  FAMILY_PATTERN,
  TASK_DEFINITION_ARN_PATTERN
} from './ecs-source.js'
export {
  type DigestLookup,
  imageDigestLookup,
  type DigestLookupDeps,
  type ImagePlan,
  type ImagePolicy,
  type ImageRequest,
  planImage,
  renderImage
} from './images.js'
export { taskDefinitionShape } from './model.js'
export {
  changesFromMapping,
  LOG_DRIVERS,
  type NamedChange,
  parseChangeLines,
  parseCommand,
  parseRuntimePlatform,
  type RuntimePlatform,
  splitCommandLine,
  validateEnvFileArn,
  validateLogDriver,
  validateSecretSource,
  validateTaskCpu,
  validateTaskMemory,
  validateTaskRoleArn
} from './overrides.js'
export {
  applyContainerChanges,
  applyTaskChanges,
  checkTaskDefinition,
  type ContainerChangeReport,
  type ContainerChanges,
  type ContainerDefinition,
  containerNames,
  DESCRIBE_ONLY_FIELDS,
  FARGATE_SIZES,
  type FieldSource,
  findContainer,
  IMAGE_TAG_LABEL,
  normaliseTaskDefinition,
  type NormalisedTaskDefinition,
  parseTaskDefinitionText,
  serialiseTaskDefinition,
  setContainerImage,
  type TaskChanges,
  type TaskDefinition
} from './render.js'
export {
  closestKey as closestTaskDefinitionKey,
  formatPath as formatKeyPath,
  validateAgainstModel as validateTaskDefinitionModel
} from './validate.js'
