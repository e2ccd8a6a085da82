import type { ContractSamples } from '../channel-contract.ts';
import { loadFixture } from './fixtures/load-fixture.ts';
import { readWebhook, type MetaChannel, type MetaInboundItem } from './meta-webhook.ts';

const ids = { WABA_ID: '100200300', PHONE_NUMBER_ID: '555000111', WA_ID: '5215512345678', WA_ID_2: '5511987654321', WAMID: 'wamid.contract', MEDIA_ID: '7001', REACTED_ID: 'wamid.earlier', EMOJI: '👍', CONTEXT_ID: 'wamid.earlier', ACCOUNT_ID: '900800700', PSID: '24000000000001', IGSID: '17800000000001', MID: 'm_contract', CDN_URL: 'http://127.0.0.1:1/cdn/x', REPLY_TO: 'm_earlier' };

/** The customer messages of these fixtures, as the webhook reader hands them to parseInbound. */
function itemsOf(...names: string[]): MetaInboundItem[] {
  return names.flatMap((name) => {
    const read = readWebhook(JSON.parse(loadFixture(name, ids)));
    if (!read.ok) throw new Error(`${name}: ${read.error}`);
    return read.entries.flatMap((e) => e.events.flatMap((ev) => (ev.kind === 'message' ? [ev.item] : [])));
  });
}

const hostile = (channel: MetaChannel): unknown[] => [
  '',
  null,
  'not an event',
  { channel, accountId: '1', event: {} },
  { channel, accountId: '1', event: { type: 'image', image: {} } },
  { channel, accountId: '1', event: { id: 'wamid.x', from: '1', type: 'no-such-type' }, contactName: null },
  { channel, accountId: '1', event: { sender: { id: 'p' }, message: { mid: 'm', attachments: [{ type: 'fallback', payload: null }] } } },
];

// A Graph API on a port nobody listens on: a connection failure, which may pass later.
const unreachableSettings = { accountId: '555000111', accessToken: 'token', graphBaseUrl: 'http://127.0.0.1:1', apiVersion: 'v21.0' };
const knownStatuses = ['sent', 'delivered', 'read', 'failed'];

/** What the channel contract suite feeds the WhatsApp, Messenger and Instagram adapters. */
export const contractSamples: Record<MetaChannel, ContractSamples> = {
  whatsapp: {
    inbound: itemsOf('whatsapp-text', 'whatsapp-image', 'whatsapp-location', 'whatsapp-reaction', 'whatsapp-reply', 'whatsapp-interactive', 'whatsapp-unsupported', 'whatsapp-batch'),
    hostile: hostile('whatsapp'),
    knownStatuses,
    unreachableSettings,
    recipient: '5215512345678',
  },
  messenger: {
    inbound: itemsOf('messenger-text', 'messenger-image', 'messenger-quick-reply', 'messenger-reaction', 'messenger-postback'),
    hostile: hostile('messenger'),
    knownStatuses,
    unreachableSettings,
    recipient: '24000000000001',
  },
  instagram: { inbound: itemsOf('instagram-text'), hostile: hostile('instagram'), knownStatuses, unreachableSettings, recipient: '17800000000001' },
};
