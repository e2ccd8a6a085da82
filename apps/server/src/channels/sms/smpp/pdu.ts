/**
 * SMPP 3.4 PDUs: the 16-octet header, the bodies an ESME sends and receives, C-octet strings
 * with the spec's maximum lengths and optional TLVs. Decoding is strict: every length is
 * checked, and what does not fit throws SmppDecodeError (the session answers generic_nack or
 * drops the bind), never reads past the buffer.
 */

export const Command = {
  generic_nack: 0x80000000,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
} as const;
export type CommandName = keyof typeof Command;
const commandNames = new Map<number, CommandName>(Object.entries(Command).map(([name, id]) => [id, name as CommandName]));

export function commandName(id: number): string {
  return commandNames.get(id) ?? `0x${id.toString(16).padStart(8, '0')}`;
}

/** command_status values Parley reads or sends (SMPP 3.4 §5.1.3). */
export const Status = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RINVMSGID: 0x0c,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
  ESME_RX_R_APPN: 0x66,
  ESME_RUNKNOWNERR: 0xff,
} as const;
const statusNames = new Map<number, string>(Object.entries(Status).map(([name, id]) => [id, name]));

export function statusName(status: number): string {
  return statusNames.get(status) ?? `0x${status.toString(16).padStart(8, '0')}`;
}

/** Optional parameter tags Parley reads or writes (§5.3.2). */
export const Tag = {
  receipted_message_id: 0x001e,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  message_payload: 0x0424,
  message_state: 0x0427,
  network_error_code: 0x0423,
} as const;

export const HEADER_LENGTH = 16;
/** Larger PDUs are refused: a short message is at most 254 octets, message_payload at most 64 KiB. */
export const MAX_PDU_LENGTH = 70_000;

export interface Tlv {
  tag: number;
  value: Buffer;
}

export interface BindBody {
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

/** submit_sm and deliver_sm share this layout (§4.4.1, §4.6.1). */
export interface ShortMessageBody {
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
  tlvs: Tlv[];
}

/** A submit_sm/deliver_sm body: these fields given, the rest at their plain defaults (no scheduling, no validity, default SMSC settings). */
export function shortMessageBody(fields: Pick<ShortMessageBody, 'sourceAddr' | 'destinationAddr' | 'shortMessage'> & Partial<ShortMessageBody>): ShortMessageBody {
  return {
    serviceType: '',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    destAddrTon: 1,
    destAddrNpi: 1,
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 0,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    tlvs: [],
    ...fields,
  };
}

export type Pdu =
  | (Header & { command: 'bind_transceiver'; body: BindBody })
  | (Header & { command: 'bind_transceiver_resp'; body: { systemId: string; tlvs: Tlv[] } })
  | (Header & { command: 'submit_sm' | 'deliver_sm'; body: ShortMessageBody })
  | (Header & { command: 'submit_sm_resp' | 'deliver_sm_resp'; body: { messageId: string } })
  | (Header & { command: 'unbind' | 'unbind_resp' | 'enquire_link' | 'enquire_link_resp' | 'generic_nack'; body: null });

interface Header {
  status: number;
  sequence: number;
}

export class SmppDecodeError extends Error {
  constructor(
    message: string,
    /** command_status for the generic_nack that answers it. */
    readonly status: number,
    /** The offending PDU's sequence number, when its header was readable. */
    readonly sequence: number | null = null,
  ) {
    super(message);
  }
}

/** Field maxima including the terminating NUL (§4, "Var. max"). */
const MAX = { systemId: 16, password: 9, systemType: 13, addressRange: 41, serviceType: 6, addr: 21, time: 17, messageId: 65 } as const;

/** Appends fields into one growing buffer (a PDU is a few hundred octets; no per-field allocation). */
class Writer {
  private buf = Buffer.allocUnsafe(320);
  private length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  cstring(value: string, max: number, field: string): this {
    const size = Buffer.byteLength(value, 'latin1');
    if (size + 1 > max) throw new RangeError(`${field} is longer than ${max - 1} octets`);
    if (value.includes('\0')) throw new RangeError(`${field} contains a NUL`);
    this.room(size + 1);
    this.length += this.buf.write(value, this.length, 'latin1');
    this.buf[this.length++] = 0;
    return this;
  }
  u8(value: number): this {
    this.room(1);
    this.buf[this.length++] = value & 0xff;
    return this;
  }
  bytes(value: Buffer): this {
    this.room(value.length);
    value.copy(this.buf, this.length);
    this.length += value.length;
    return this;
  }
  tlvs(tlvs: Tlv[]): this {
    for (const { tag, value } of tlvs) {
      this.room(4);
      this.buf.writeUInt16BE(tag, this.length);
      this.buf.writeUInt16BE(value.length, this.length + 2);
      this.length += 4;
      this.bytes(value);
    }
    return this;
  }
  build(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

class Reader {
  private offset = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly sequence: number,
  ) {}
  private fail(message: string, status: number = Status.ESME_RINVCMDLEN): never {
    throw new SmppDecodeError(message, status, this.sequence);
  }
  get remaining(): number {
    return this.buf.length - this.offset;
  }
  cstring(max: number, field: string): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) this.fail(`${field} is not NUL-terminated`);
    if (end - this.offset + 1 > max) this.fail(`${field} is longer than ${max - 1} octets`);
    const value = this.buf.toString('latin1', this.offset, end);
    this.offset = end + 1;
    return value;
  }
  u8(field: string): number {
    if (this.remaining < 1) this.fail(`the PDU ends before ${field}`);
    return this.buf[this.offset++]!;
  }
  bytes(length: number, field: string): Buffer {
    if (this.remaining < length) this.fail(`${field} runs past the end of the PDU`, Status.ESME_RINVMSGLEN);
    const value = Buffer.from(this.buf.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }
  tlvs(): Tlv[] {
    const out: Tlv[] = [];
    while (this.remaining > 0) {
      if (this.remaining < 4) this.fail('a truncated optional parameter');
      const tag = this.buf.readUInt16BE(this.offset);
      const length = this.buf.readUInt16BE(this.offset + 2);
      this.offset += 4;
      out.push({ tag, value: this.bytes(length, `optional parameter 0x${tag.toString(16)}`) });
    }
    return out;
  }
  /** An optional trailing C-string (response bodies are empty when command_status is an error). */
  optionalCstring(max: number, field: string): string {
    return this.remaining === 0 ? '' : this.cstring(max, field);
  }
  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} unexpected octets at the end of the PDU`);
  }
}

function encodeBody(pdu: Pdu): Buffer {
  const w = new Writer();
  switch (pdu.command) {
    case 'bind_transceiver': {
      const b = pdu.body;
      return w
        .cstring(b.systemId, MAX.systemId, 'system_id')
        .cstring(b.password, MAX.password, 'password')
        .cstring(b.systemType, MAX.systemType, 'system_type')
        .u8(b.interfaceVersion)
        .u8(b.addrTon)
        .u8(b.addrNpi)
        .cstring(b.addressRange, MAX.addressRange, 'address_range')
        .build();
    }
    case 'bind_transceiver_resp':
      return w.cstring(pdu.body.systemId, MAX.systemId, 'system_id').tlvs(pdu.body.tlvs).build();
    case 'submit_sm':
    case 'deliver_sm': {
      const b = pdu.body;
      if (b.shortMessage.length > 254) throw new RangeError('short_message is longer than 254 octets');
      return w
        .cstring(b.serviceType, MAX.serviceType, 'service_type')
        .u8(b.sourceAddrTon)
        .u8(b.sourceAddrNpi)
        .cstring(b.sourceAddr, MAX.addr, 'source_addr')
        .u8(b.destAddrTon)
        .u8(b.destAddrNpi)
        .cstring(b.destinationAddr, MAX.addr, 'destination_addr')
        .u8(b.esmClass)
        .u8(b.protocolId)
        .u8(b.priorityFlag)
        .cstring(b.scheduleDeliveryTime, MAX.time, 'schedule_delivery_time')
        .cstring(b.validityPeriod, MAX.time, 'validity_period')
        .u8(b.registeredDelivery)
        .u8(b.replaceIfPresentFlag)
        .u8(b.dataCoding)
        .u8(b.smDefaultMsgId)
        .u8(b.shortMessage.length)
        .bytes(b.shortMessage)
        .tlvs(b.tlvs)
        .build();
    }
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
      return w.cstring(pdu.body.messageId, MAX.messageId, 'message_id').build();
    default:
      return Buffer.alloc(0);
  }
}

export function encodePdu(pdu: Pdu): Buffer {
  const body = encodeBody(pdu);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  out.writeUInt32BE(HEADER_LENGTH + body.length, 0);
  out.writeUInt32BE(Command[pdu.command], 4);
  out.writeUInt32BE(pdu.status >>> 0, 8);
  out.writeUInt32BE(pdu.sequence >>> 0, 12);
  body.copy(out, HEADER_LENGTH);
  return out;
}

/** One whole PDU (header included) → Pdu. Throws SmppDecodeError for unknown commands and malformed bodies. */
export function decodePdu(frame: Buffer): Pdu {
  if (frame.length < HEADER_LENGTH) throw new SmppDecodeError(`a PDU of ${frame.length} octets is shorter than its header`, Status.ESME_RINVCMDLEN);
  const length = frame.readUInt32BE(0);
  const commandId = frame.readUInt32BE(4);
  const status = frame.readUInt32BE(8);
  const sequence = frame.readUInt32BE(12);
  if (length !== frame.length) throw new SmppDecodeError(`command_length ${length} does not match the ${frame.length} octets read`, Status.ESME_RINVCMDLEN, sequence);
  const command = commandNames.get(commandId);
  if (!command) throw new SmppDecodeError(`unsupported command_id ${commandName(commandId)}`, Status.ESME_RINVCMDID, sequence);
  const r = new Reader(frame.subarray(HEADER_LENGTH), sequence);
  const head = { status, sequence };
  switch (command) {
    case 'bind_transceiver': {
      const body: BindBody = {
        systemId: r.cstring(MAX.systemId, 'system_id'),
        password: r.cstring(MAX.password, 'password'),
        systemType: r.cstring(MAX.systemType, 'system_type'),
        interfaceVersion: r.u8('interface_version'),
        addrTon: r.u8('addr_ton'),
        addrNpi: r.u8('addr_npi'),
        addressRange: r.cstring(MAX.addressRange, 'address_range'),
      };
      r.end();
      return { ...head, command, body };
    }
    case 'bind_transceiver_resp': {
      const systemId = r.optionalCstring(MAX.systemId, 'system_id');
      return { ...head, command, body: { systemId, tlvs: r.tlvs() } };
    }
    case 'submit_sm':
    case 'deliver_sm':
      return { ...head, command, body: readShortMessageBody(r) };
    case 'submit_sm_resp':
    case 'deliver_sm_resp': {
      const messageId = r.optionalCstring(MAX.messageId, 'message_id');
      // SMPP 5.0 peers may append TLVs to responses; 3.4 has none, so they are skipped, not refused.
      return { ...head, command, body: { messageId } };
    }
    default:
      r.end();
      return { ...head, command, body: null };
  }
}

function readShortMessageBody(r: Reader): ShortMessageBody {
  const serviceType = r.cstring(MAX.serviceType, 'service_type');
  const sourceAddrTon = r.u8('source_addr_ton');
  const sourceAddrNpi = r.u8('source_addr_npi');
  const sourceAddr = r.cstring(MAX.addr, 'source_addr');
  const destAddrTon = r.u8('dest_addr_ton');
  const destAddrNpi = r.u8('dest_addr_npi');
  const destinationAddr = r.cstring(MAX.addr, 'destination_addr');
  const esmClass = r.u8('esm_class');
  const protocolId = r.u8('protocol_id');
  const priorityFlag = r.u8('priority_flag');
  const scheduleDeliveryTime = r.cstring(MAX.time, 'schedule_delivery_time');
  const validityPeriod = r.cstring(MAX.time, 'validity_period');
  const registeredDelivery = r.u8('registered_delivery');
  const replaceIfPresentFlag = r.u8('replace_if_present_flag');
  const dataCoding = r.u8('data_coding');
  const smDefaultMsgId = r.u8('sm_default_msg_id');
  const smLength = r.u8('sm_length');
  const shortMessage = r.bytes(smLength, 'short_message');
  const tlvs = r.tlvs();
  return {
    serviceType,
    sourceAddrTon,
    sourceAddrNpi,
    sourceAddr,
    destAddrTon,
    destAddrNpi,
    destinationAddr,
    esmClass,
    protocolId,
    priorityFlag,
    scheduleDeliveryTime,
    validityPeriod,
    registeredDelivery,
    replaceIfPresentFlag,
    dataCoding,
    smDefaultMsgId,
    shortMessage,
    tlvs,
  };
}

export function tlvValue(tlvs: Tlv[], tag: number): Buffer | null {
  return tlvs.find((t) => t.tag === tag)?.value ?? null;
}

/** A C-octet-string TLV value (receipted_message_id) without its NUL. */
export function tlvString(tlvs: Tlv[], tag: number): string | null {
  const value = tlvValue(tlvs, tag);
  if (!value) return null;
  const end = value.indexOf(0);
  return value.toString('latin1', 0, end < 0 ? value.length : end);
}

/**
 * Cuts a TCP byte stream into PDU frames. A command_length below the header or above
 * MAX_PDU_LENGTH cannot be resynchronized from: push() throws and the connection must close.
 */
export class PduFramer {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (length < HEADER_LENGTH || length > MAX_PDU_LENGTH) {
        throw new SmppDecodeError(`command_length ${length} is outside ${HEADER_LENGTH}..${MAX_PDU_LENGTH}`, Status.ESME_RINVCMDLEN);
      }
      if (this.buffered.length < length) break;
      frames.push(this.buffered.subarray(0, length));
      this.buffered = this.buffered.subarray(length);
    }
    return frames;
  }
}
