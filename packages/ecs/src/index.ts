export * from './task-definition/index.js'
export * from './deploy/index.js'
export * from './codedeploy/index.js'
