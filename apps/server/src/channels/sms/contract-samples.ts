import type { ContractSamples } from '../channel-contract.ts';
import type { InboundSms } from './provider.ts';

const sms = (over: Partial<InboundSms>): InboundSms => ({ providerId: 'SM00000000000000000000000000000001', from: '+5215512345678', to: '+15005550006', text: 'hola', media: [], details: {}, ...over });

/** What the channel contract suite feeds the SMS adapter: messages as the providers' webhook readers hand them over. */
export const contractSamples: ContractSamples = {
  inbound: [
    sms({ details: { provider: 'twilio' } }),
    sms({ providerId: '01FC66621VHDBN119Z8PMV1QPQ', from: '+5511955551234', to: '+5215544440000', text: 'Olá, tudo bem?', details: { provider: 'sinch', receivedAt: '2026-11-22T10:00:00.000Z' } }),
    sms({ providerId: '0A0000000123ABCD1', text: 'Hello from Vonage', details: { provider: 'vonage', type: 'text' } }),
    sms({ providerId: 'MM1', text: 'foto', media: [{ url: 'https://api.twilio.com/media/ME1', contentType: 'image/jpeg' }] }),
  ],
  hostile: [
    null,
    '',
    'not an sms at all',
    { providerId: 42, from: null },
    sms({ providerId: 'SMnul', text: 'nul\u0000inside \u202eRTL override 🤖' }),
    sms({ providerId: 'SMlong', text: 'x'.repeat(20_000) }),
    sms({ providerId: 'SMshort', from: '12345', text: 'from a short code' }),
  ],
  knownStatuses: ['queued', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'Dispatched', 'Delivered', 'Rejected', 'Expired', 'accepted', 'buffered', 'expired'],
  // A provider base URL on a port nobody answers: a connection failure, which may pass later.
  unreachableSettings: { number: '+15005550006', provider: 'twilio', twilio: { accountSid: 'ACcontract', authToken: 'token', baseUrl: 'http://127.0.0.1:1' } },
  recipient: '+5215512345678',
};
