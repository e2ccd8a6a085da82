import type { ChannelType } from '../db/schema.ts';
import type { ChannelAdapter } from './channel.ts';
import { adapter as email } from './email/adapter.ts';
import { adapter as sms } from './sms/adapter.ts';
import { instagramAdapter, messengerAdapter, whatsAppAdapter } from './meta/adapter.ts';

/** The channels Parley speaks through an adapter; a channel type missing here has no provider side (web chat, API). */
const adapters: Partial<Record<ChannelType, ChannelAdapter>> = {
  email: email as ChannelAdapter,
  sms: sms as ChannelAdapter,
  whatsapp: whatsAppAdapter as ChannelAdapter,
  messenger: messengerAdapter as ChannelAdapter,
  instagram: instagramAdapter as ChannelAdapter,
};

export function adapterFor(channelType: ChannelType): ChannelAdapter | null {
  return adapters[channelType] ?? null;
}

/** Every registered adapter, for the contract suite every channel passes. */
export function registeredAdapters(): ChannelAdapter[] {
  return Object.values(adapters);
}
