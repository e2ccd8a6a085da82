import type { ContractSamples } from '../channel-contract.ts';

const raw = (lines: string[]) => Buffer.from(lines.join('\r\n'));

/** What the channel contract suite feeds the email adapter. */
export const contractSamples: ContractSamples = {
  inbound: [
    raw(['From: A <a@customer.test>', 'To: support@x.test', 'Subject: hi', 'Message-ID: <c1@customer.test>', '', 'hello', '']),
    raw(['From: b@customer.test', 'Subject: no id', 'In-Reply-To: <c1@customer.test>', 'Content-Type: text/html', '', '<p onclick="x()">hi<script>x()</script></p>', '']),
  ],
  hostile: [Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]), Buffer.from('Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n'.repeat(2000))],
  knownStatuses: ['sent', 'delivered', 'failed', 'bounced'],
  // A relay on a port nobody listens on: a connection failure, which may pass later.
  unreachableSettings: { address: 'support@x.test', smtp: { host: '127.0.0.1', port: 1, secure: false } },
  recipient: 'someone@customer.test',
};
