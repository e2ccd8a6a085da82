import { Type, type Static, type TSchema } from 'typebox';
import type { RoutingOffersTable } from '../db/schema.ts';
import type { Selectable } from 'kysely';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Id = Type.String({ minLength: 1, maxLength: 100 });

export const ChannelSchema = Type.Union([Type.Literal('chat'), Type.Literal('email'), Type.Literal('sms'), Type.Literal('social'), Type.Literal('voice'), Type.Literal('task')]);
export const AgentStateSchema = Type.Union([Type.Literal('available'), Type.Literal('busy'), Type.Literal('away'), Type.Literal('offline'), Type.Literal('not-ready'), Type.Literal('wrap-up')]);
export const SettableStateSchema = Type.Union([Type.Literal('available'), Type.Literal('busy'), Type.Literal('away'), Type.Literal('offline'), Type.Literal('not-ready')]);
const PerChannel = <T extends TSchema>(t: T) =>
  Type.Object({ chat: Type.Optional(t), email: Type.Optional(t), sms: Type.Optional(t), social: Type.Optional(t), voice: Type.Optional(t), task: Type.Optional(t) }, { additionalProperties: false });

export const OfferDto = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  agentId: Type.String(),
  queueId: Type.String(),
  channel: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('accepted'), Type.Literal('declined'), Type.Literal('expired'), Type.Literal('revoked')]),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  closedAt: Nullable(Type.String()),
});
export type OfferDto = Static<typeof OfferDto>;

export function toOfferDto(row: Selectable<RoutingOffersTable>): OfferDto {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    agentId: row.agent_id,
    queueId: row.queue_id,
    channel: row.channel,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    closedAt: row.closed_at ? row.closed_at.toISOString() : null,
  };
}

const SkillName = Type.String({ minLength: 1, maxLength: 50, pattern: '^[A-Za-z0-9_.:-]+$' });
const Level = Type.Integer({ minimum: 1, maximum: 5 });
const Seconds = Type.Integer({ minimum: 0, maximum: 31_536_000 });
const Hhmm = Type.String({ pattern: '^\\d{2}:\\d{2}$' });
const Interval = Type.Object({ start: Hhmm, end: Hhmm }, { additionalProperties: false });
const Intervals = Type.Array(Interval, { maxItems: 12 });

export const ExitActionSchema = Type.Union([
  Type.Object({ kind: Type.Literal('offline-form') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('voicemail') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('overflow'), queueId: Id }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('close'), message: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
]);
const EscalationSchema = Type.Union([
  Type.Object({ kind: Type.Literal('raise-priority'), by: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('notify-supervisor') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('move-queue'), queueId: Id }, { additionalProperties: false }),
]);

export const QueueSettingsSchema = {
  strategy: Type.Optional(Type.Union([Type.Literal('longest-idle'), Type.Literal('least-occupied'), Type.Literal('round-robin'), Type.Literal('best-skill-match')])),
  requiredSkills: Type.Optional(Type.Array(Type.Object({ skill: SkillName, minLevel: Level }, { additionalProperties: false }), { maxItems: 20 })),
  businessHours: Type.Optional(
    Nullable(
      Type.Object(
        {
          timeZone: Type.String({ minLength: 1, maxLength: 64 }),
          weekly: Type.Object(
            { mon: Type.Optional(Intervals), tue: Type.Optional(Intervals), wed: Type.Optional(Intervals), thu: Type.Optional(Intervals), fri: Type.Optional(Intervals), sat: Type.Optional(Intervals), sun: Type.Optional(Intervals) },
            { additionalProperties: false },
          ),
          holidays: Type.Optional(Type.Array(Type.Object({ date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), name: Type.Optional(Type.String({ maxLength: 100 })), open: Type.Optional(Intervals) }, { additionalProperties: false }), { maxItems: 400 })),
        },
        { additionalProperties: false },
      ),
    ),
  ),
  outOfHoursAction: Type.Optional(ExitActionSchema),
  maxWait: Type.Optional(Nullable(Type.Object({ seconds: Type.Integer({ minimum: 1, maximum: 31_536_000 }), action: ExitActionSchema }, { additionalProperties: false }))),
  maxQueueSize: Type.Optional(Nullable(Type.Object({ size: Type.Integer({ minimum: 1, maximum: 1_000_000 }), action: ExitActionSchema }, { additionalProperties: false }))),
  offerTimeoutSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
  setAwayOnOfferTimeout: Type.Optional(Type.Boolean()),
  autoAccept: Type.Optional(PerChannel(Type.Boolean())),
  declineCooldownSeconds: Type.Optional(Seconds),
  bullseye: Type.Optional(
    Type.Array(
      Type.Object(
        { afterSeconds: Seconds, dropPreferredSkills: Type.Optional(Type.Boolean()), lowerRequiredLevelsBy: Type.Optional(Type.Integer({ minimum: 0, maximum: 4 })), addQueueMembers: Type.Optional(Type.Array(Id, { maxItems: 1000 })) },
        { additionalProperties: false },
      ),
      { maxItems: 10 },
    ),
  ),
  priorityRules: Type.Optional(
    Type.Array(
      Type.Object(
        {
          id: Id,
          when: Type.Object(
            {
              attribute: Type.Optional(Type.Object({ key: Type.String({ minLength: 1, maxLength: 100 }), equals: Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()]) }, { additionalProperties: false })),
              channel: Type.Optional(ChannelSchema),
              label: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
              waitedSeconds: Type.Optional(Seconds),
            },
            { additionalProperties: false },
          ),
          raiseBy: Type.Integer({ minimum: -100, maximum: 100 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 50 },
    ),
  ),
  priorityWeightSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
  lastAgentPreferenceSeconds: Type.Optional(Seconds),
  wrapUpSeconds: Type.Optional(Seconds),
  serviceLevelTargetSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  sla: Type.Optional(
    Nullable(
      Type.Object(
        {
          id: Id,
          targets: Type.Array(
            Type.Object(
              { minPriority: Type.Optional(Type.Integer()), firstResponseSeconds: Type.Optional(Seconds), nextResponseSeconds: Type.Optional(Seconds), resolutionSeconds: Type.Optional(Seconds) },
              { additionalProperties: false },
            ),
            { minItems: 1, maxItems: 20 },
          ),
          businessHoursOnly: Type.Optional(Type.Boolean()),
          warnBeforeSeconds: Type.Optional(Seconds),
          onWarning: Type.Optional(Type.Array(EscalationSchema, { maxItems: 5 })),
          onBreach: Type.Optional(Type.Array(EscalationSchema, { maxItems: 5 })),
        },
        { additionalProperties: false },
      ),
    ),
  ),
};

export const QueueInput = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), members: Type.Optional(Type.Array(Id, { maxItems: 5000 })), ...QueueSettingsSchema },
  { additionalProperties: false },
);
export type QueueInput = Static<typeof QueueInput>;
export const QueuePatch = Type.Partial(QueueInput, { additionalProperties: false });
export type QueuePatch = Static<typeof QueuePatch>;

export const QueueDto = Type.Object({
  id: Type.String(),
  name: Type.String(),
  isDefault: Type.Boolean(),
  members: Type.Array(Type.String()),
  ...QueueSettingsSchema,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type QueueDto = Static<typeof QueueDto>;

export const AgentRoutingDto = Type.Object({
  userId: Type.String(),
  name: Type.String(),
  role: Type.String(),
  state: AgentStateSchema,
  reason: Nullable(Type.String()),
  since: Type.String(),
  connected: Type.Boolean(),
  skills: Type.Record(Type.String(), Type.Integer()),
  capacity: PerChannel(Type.Integer()),
  load: PerChannel(Type.Integer()),
  offers: Type.Array(OfferDto),
  conversationIds: Type.Array(Type.String()),
});
export type AgentRoutingDto = Static<typeof AgentRoutingDto>;

export const ProfileInput = Type.Object(
  { skills: Type.Record(SkillName, Level), capacity: PerChannel(Type.Integer({ minimum: 0, maximum: 100 })) },
  { additionalProperties: false },
);
export type ProfileInput = Static<typeof ProfileInput>;

export const StateInput = Type.Object({ state: SettableStateSchema, reason: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false });

export const ConversationRoutingDto = Type.Object({
  conversationId: Type.String(),
  queueId: Nullable(Type.String()),
  state: Nullable(Type.Union([Type.Literal('waiting'), Type.Literal('offered'), Type.Literal('assigned')])),
  waitingSince: Nullable(Type.String()),
  priority: Type.Number(),
  offer: Nullable(OfferDto),
  sla: Type.Array(Type.Object({ clock: Type.String(), dueAt: Type.String(), status: Type.String() })),
});

const StateCounts = Type.Record(Type.String(), Type.Integer());
export const WallboardDto = Type.Object({
  generatedAt: Type.String(),
  queues: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      waiting: Type.Integer(),
      offered: Type.Integer(),
      longestWaitSeconds: Type.Number(),
      today: Type.Object({ offered: Type.Integer(), answered: Type.Integer(), abandoned: Type.Integer(), answeredWithinTarget: Type.Integer() }),
      serviceLevelTargetSeconds: Type.Integer(),
      serviceLevelPercent: Nullable(Type.Number()),
      agentsByState: StateCounts,
    }),
  ),
  agents: Type.Array(
    Type.Object({
      userId: Type.String(),
      name: Type.String(),
      state: AgentStateSchema,
      reason: Nullable(Type.String()),
      since: Type.String(),
      secondsInState: Type.Number(),
      connected: Type.Boolean(),
      load: PerChannel(Type.Integer()),
      capacity: PerChannel(Type.Integer()),
    }),
  ),
});
export type WallboardDto = Static<typeof WallboardDto>;
