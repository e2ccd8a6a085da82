import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePdu, encodePdu, PduFramer, shortMessageBody, SmppDecodeError, Status, Tag, tlvString, type Pdu, type ShortMessageBody } from './pdu.ts';

const sm = (over: Partial<ShortMessageBody> = {}): ShortMessageBody =>
  shortMessageBody({ sourceAddr: '5215511112222', destinationAddr: '5215533334444', registeredDelivery: 1, shortMessage: Buffer.from('Hi'), ...over });

function decodeError(frame: Buffer): SmppDecodeError {
  try {
    decodePdu(frame);
  } catch (err) {
    if (err instanceof SmppDecodeError) return err;
    throw err;
  }
  throw new Error('decoded');
}

describe('SMPP 3.4 PDUs', () => {
  it('encodes enquire_link and bind_transceiver byte for byte as the spec lays them out', () => {
    expect(encodePdu({ command: 'enquire_link', status: 0, sequence: 7, body: null }).toString('hex')).toBe('00000010' + '00000015' + '00000000' + '00000007');
    const bind = encodePdu({ command: 'bind_transceiver', status: 0, sequence: 1, body: { systemId: 'parley', password: 'pw', systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' } });
    expect(bind.toString('hex')).toBe('0000001f' + '00000009' + '00000000' + '00000001' + Buffer.from('parley\0pw\0\0').toString('hex') + '340000' + '00');
  });

  it('encodes submit_sm with its mandatory fields in order and the TLVs after', () => {
    const pdu = encodePdu({ command: 'submit_sm', status: 0, sequence: 2, body: sm({ tlvs: [{ tag: Tag.message_payload, value: Buffer.from('x') }] }) });
    const body = pdu.subarray(16).toString('hex');
    expect(body).toBe(
      '00' + '0101' + Buffer.from('5215511112222\0').toString('hex') + '0101' + Buffer.from('5215533334444\0').toString('hex') + '000000' + '00' + '00' + '01000000' + '02' + '4869' + '04240001' + '78',
    );
  });

  it('decodes what it encodes (any addresses, texts and TLVs)', () => {
    fc.assert(
      fc.property(
        fc.record({
          sourceAddr: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 20 }),
          destinationAddr: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 20 }),
          esmClass: fc.integer({ min: 0, max: 255 }),
          dataCoding: fc.integer({ min: 0, max: 255 }),
          shortMessage: fc.uint8Array({ maxLength: 254 }).map((a) => Buffer.from(a)),
          tlvs: fc.array(fc.record({ tag: fc.integer({ min: 0, max: 0xffff }), value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) }), { maxLength: 3 }),
        }),
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.constantFrom('submit_sm' as const, 'deliver_sm' as const),
        (fields, sequence, command) => {
          const pdu: Pdu = { command, status: 0, sequence, body: sm(fields) };
          expect(decodePdu(encodePdu(pdu))).toEqual(pdu);
        },
      ),
    );
  });

  it('reads responses with an empty body when command_status is an error, and TLV strings without their NUL', () => {
    const refused = Buffer.from('00000010' + '80000004' + '0000000b' + '00000003', 'hex');
    expect(decodePdu(refused)).toEqual({ command: 'submit_sm_resp', status: Status.ESME_RINVDSTADR, sequence: 3, body: { messageId: '' } });
    expect(tlvString([{ tag: Tag.receipted_message_id, value: Buffer.from('abc\0') }], Tag.receipted_message_id)).toBe('abc');
  });

  it('refuses malformed bodies with the status for the generic_nack and the sequence to answer', () => {
    const unterminated = Buffer.concat([Buffer.from('00000014' + '00000005' + '00000000' + '00000009', 'hex'), Buffer.from('abcd')]);
    expect(decodeError(unterminated)).toMatchObject({ status: Status.ESME_RINVCMDLEN, sequence: 9, message: 'service_type is not NUL-terminated' });
    const unknown = Buffer.from('00000010' + '00000099' + '00000000' + '00000004', 'hex');
    expect(decodeError(unknown)).toMatchObject({ status: Status.ESME_RINVCMDID, sequence: 4 });
    // sm_length says 200 octets, the PDU has 2.
    const good = encodePdu({ command: 'deliver_sm', status: 0, sequence: 5, body: sm() });
    const lying = Buffer.from(good);
    lying[lying.length - 3] = 200;
    expect(decodeError(lying)).toMatchObject({ status: Status.ESME_RINVMSGLEN, sequence: 5 });
    // A system_id over 15 octets.
    const long = Buffer.concat([Buffer.from('00000000' + '80000009' + '00000000' + '00000001', 'hex'), Buffer.from('x'.repeat(20) + '\0')]);
    long.writeUInt32BE(long.length, 0);
    expect(decodeError(long).message).toBe('system_id is longer than 15 octets');
    expect(() => encodePdu({ command: 'bind_transceiver', status: 0, sequence: 1, body: { systemId: 'p', password: 'longer-than-8', systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' } })).toThrow(/password/);
  });

  it('never throws anything but SmppDecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 300 }), fc.constantFrom(0x04, 0x05, 0x09, 0x80000004, 0x80000009, 0x15), (bytes, command) => {
        const frame = Buffer.from(bytes);
        frame.writeUInt32BE(frame.length, 0);
        frame.writeUInt32BE(command, 4);
        try {
          decodePdu(frame);
        } catch (err) {
          expect(err).toBeInstanceOf(SmppDecodeError);
        }
      }),
    );
  });

  it('frames a byte stream cut anywhere, and refuses a command_length it cannot trust', () => {
    const a = encodePdu({ command: 'enquire_link', status: 0, sequence: 1, body: null });
    const b = encodePdu({ command: 'deliver_sm', status: 0, sequence: 2, body: sm() });
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const framer = new PduFramer();
      const frames = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      expect(frames.map((f) => f.toString('hex'))).toEqual([a.toString('hex'), b.toString('hex')]);
    }
    expect(() => new PduFramer().push(Buffer.from('0000000c00000015', 'hex'))).toThrow(/outside/);
    expect(() => new PduFramer().push(Buffer.from('7fffffff00000015', 'hex'))).toThrow(/outside/);
  });
});
