export * from './task-definition/index.js'
