import { RoutingError, RoutingErrorCodes } from './errors.ts';
import { CHANNELS, type Channel } from './types.ts';

/** An active voice call blocks every other channel; other channels do not block each other. */
export const DEFAULT_BLOCKING: Readonly<Partial<Record<Channel, Channel[]>>> = {
  voice: ['chat', 'email', 'sms', 'social', 'task'],
};

export type ChannelLoad = Record<Channel, number>;

export function emptyLoad(): ChannelLoad {
  return { chat: 0, email: 0, sms: 0, social: 0, voice: 0, task: 0 };
}

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

/**
 * Capacity is a whole number per channel; 0 (or absent) means the agent never receives that
 * channel, a negative or fractional number is rejected.
 */
export function validateCapacity(capacity: unknown, agentId: string): Partial<Record<Channel, number>> {
  if (typeof capacity !== 'object' || capacity === null) {
    throw new RoutingError(RoutingErrorCodes.INVALID_CAPACITY, `Agent ${agentId}: capacity must be an object of channel → count`, { agentId });
  }
  for (const [channel, n] of Object.entries(capacity)) {
    if (!isChannel(channel)) {
      throw new RoutingError(RoutingErrorCodes.INVALID_CAPACITY, `Agent ${agentId}: unknown channel "${channel}" in capacity`, { agentId, channel });
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new RoutingError(
        RoutingErrorCodes.INVALID_CAPACITY,
        `Agent ${agentId}: capacity for ${channel} must be a whole number >= 0, got ${String(n)}`,
        { agentId, channel, value: n },
      );
    }
  }
  return capacity as Partial<Record<Channel, number>>;
}

export function validateBlocking(blocking: unknown, agentId: string): Partial<Record<Channel, Channel[]>> {
  if (typeof blocking !== 'object' || blocking === null) {
    throw new RoutingError(RoutingErrorCodes.INVALID_CONFIG, `Agent ${agentId}: blocking must be an object`, { agentId });
  }
  for (const [held, blocked] of Object.entries(blocking)) {
    if (!isChannel(held) || !Array.isArray(blocked) || !blocked.every(isChannel)) {
      throw new RoutingError(RoutingErrorCodes.INVALID_CONFIG, `Agent ${agentId}: blocking.${held} must list channels`, { agentId, channel: held });
    }
  }
  return blocking as Partial<Record<Channel, Channel[]>>;
}

/** For each channel, the channels whose presence in the agent's load blocks it. */
export function invertBlocking(blocking: Partial<Record<Channel, Channel[]>>): Record<Channel, Channel[]> {
  const inv: Record<Channel, Channel[]> = { chat: [], email: [], sms: [], social: [], voice: [], task: [] };
  for (const [held, blocked] of Object.entries(blocking) as [Channel, Channel[]][]) {
    for (const b of blocked) if (!inv[b].includes(held)) inv[b].push(held);
  }
  return inv;
}

/** Whether one more item of `channel` fits: below its own capacity and not blocked by held work. */
export function hasSpareCapacity(
  capacity: Partial<Record<Channel, number>>,
  blockedBy: Record<Channel, Channel[]>,
  load: ChannelLoad,
  channel: Channel,
): boolean {
  if (load[channel] >= (capacity[channel] ?? 0)) return false;
  for (const held of blockedBy[channel]) if (load[held] > 0) return false;
  return true;
}
