export { RoutingEngine, type EngineSnapshot, type AgentSnapshot, type ItemSnapshot } from './routing-engine.ts';
export * from './types.ts';
export { RoutingError, RoutingErrorCodes, routingErrorHttpStatus, isRoutingError, type RoutingErrorCode } from './errors.ts';
export {
  validateBusinessHours,
  isValidTimeZone,
  isOpen,
  nextOpenTime,
  openStateAt,
  addBusinessSeconds,
  businessSecondsBetween,
  startOfLocalDay,
  WEEKDAYS,
  type BusinessHours,
  type Holiday,
  type TimeInterval,
  type Weekday,
} from './business-hours.ts';
export {
  computeSlaDue,
  selectSlaTarget,
  slaStatus,
  validateSlaPolicy,
  SLA_CLOCKS,
  type SlaPolicy,
  type SlaTarget,
  type SlaDue,
  type SlaClockKind,
  type EscalationAction,
} from './sla.ts';
export { priorityScore, priorityKey, ruleConditionsHold, type PriorityRule } from './priority.ts';
export { STRATEGIES, longestIdle, leastOccupied, roundRobin, bestSkillMatch, type RoutingStrategy, type StrategyContext, type StrategyCandidate } from './strategies.ts';
export { DEFAULT_BLOCKING, validateCapacity, hasSpareCapacity } from './capacity.ts';
export { validateQueueConfig, validateAgentConfig, validateWorkItem } from './validation.ts';
export { checkInvariants, type InvariantViolation } from './invariants.ts';
