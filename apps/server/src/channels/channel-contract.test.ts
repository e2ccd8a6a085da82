import { describe, it } from 'vitest';
import { registeredAdapters } from './adapters.ts';
import { checkAdapterContract, type ContractSamples } from './channel-contract.ts';
import { contractSamples as email } from './email/contract-samples.ts';
import { contractSamples as meta } from './meta/contract-samples.ts';
import { contractSamples as sms } from './sms/contract-samples.ts';

// One contract, every channel adapter: a new adapter adds its samples here.
const samples: Record<string, ContractSamples> = { email, sms, ...meta };

describe('channel adapter contract', () => {
  for (const adapter of registeredAdapters()) {
    it(`${adapter.channelType}: parses any input into a stable message, maps states, reports send failures`, async () => {
      const own = samples[adapter.channelType];
      if (!own) throw new Error(`no contract samples for ${adapter.channelType}`);
      await checkAdapterContract(adapter, own);
    });
  }
});
