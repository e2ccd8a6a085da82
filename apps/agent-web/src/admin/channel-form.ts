/**
 * The connect / edit forms of SMS and Meta inboxes as data: which fields each provider has, and
 * the way between the API's settings (secrets shown only as `<name>Set`) and the form's strings.
 */
import type {
  InboxSettings, MetaSettings, ProviderChannel, ProviderFields, SmsProvider, SmsSettings, WhatsAppTemplate,
} from '../api/types';
import type { MessageKey } from '../i18n/i18n';

export type FieldKind = 'text' | 'secret' | 'url' | 'integer' | 'checkbox';

export interface FieldSpec {
  key: string;
  label: MessageKey;
  kind: FieldKind;
  /** Must have a value; a secret is required only when none is stored yet. */
  required?: boolean;
  placeholder?: string;
  hint?: MessageKey;
  maxLength?: number;
  /** A checkbox's state when nothing is stored (the server's default). */
  defaultChecked?: boolean;
}

const baseUrl: FieldSpec = { key: 'baseUrl', label: 'channel.field.baseUrl', kind: 'url', hint: 'channel.field.baseUrlHint', placeholder: 'https://' };

export const SMS_PROVIDER_FIELDS: Record<SmsProvider, FieldSpec[]> = {
  twilio: [
    { key: 'accountSid', label: 'channel.field.accountSid', kind: 'text', required: true, placeholder: 'AC…' },
    { key: 'authToken', label: 'channel.field.authToken', kind: 'secret', required: true },
    baseUrl,
  ],
  sinch: [
    { key: 'servicePlanId', label: 'channel.field.servicePlanId', kind: 'text', required: true },
    { key: 'apiToken', label: 'channel.field.apiToken', kind: 'secret', required: true },
    { key: 'callbackSecret', label: 'channel.field.callbackSecret', kind: 'secret', hint: 'channel.field.callbackSecretHint' },
    { key: 'region', label: 'channel.field.region', kind: 'text', placeholder: 'us', maxLength: 2 },
    baseUrl,
  ],
  vonage: [
    { key: 'apiKey', label: 'channel.field.apiKey', kind: 'text', required: true },
    { key: 'apiSecret', label: 'channel.field.apiSecret', kind: 'secret', required: true },
    { key: 'signatureSecret', label: 'channel.field.signatureSecret', kind: 'secret', hint: 'channel.field.signatureSecretHint' },
    baseUrl,
  ],
  kannel: [
    { key: 'sendUrl', label: 'channel.field.sendUrl', kind: 'url', required: true, placeholder: 'http://kannel.local:13013/cgi-bin/sendsms' },
    { key: 'username', label: 'channel.field.username', kind: 'text', required: true },
    { key: 'password', label: 'channel.field.password', kind: 'secret', required: true },
    { key: 'smsc', label: 'channel.field.smsc', kind: 'text' },
    { key: 'webhookToken', label: 'channel.field.webhookToken', kind: 'secret', required: true, hint: 'channel.field.webhookTokenHint' },
  ],
  smpp: [
    { key: 'host', label: 'channel.field.host', kind: 'text', required: true, placeholder: 'smsc.example.net' },
    { key: 'port', label: 'channel.field.port', kind: 'integer', required: true, placeholder: '2775' },
    { key: 'systemId', label: 'channel.field.systemId', kind: 'text', required: true, maxLength: 15 },
    { key: 'password', label: 'channel.field.password', kind: 'secret', required: true, maxLength: 8 },
    { key: 'systemType', label: 'channel.field.systemType', kind: 'text', maxLength: 12 },
    { key: 'windowSize', label: 'channel.field.windowSize', kind: 'integer', placeholder: '10' },
    { key: 'enquireLinkSeconds', label: 'channel.field.enquireLinkSeconds', kind: 'integer', placeholder: '30' },
    { key: 'tls', label: 'channel.field.tls', kind: 'checkbox' },
  ],
};

export const SMS_PROVIDER_LABELS: Record<SmsProvider, string> = {
  twilio: 'Twilio', sinch: 'Sinch', vonage: 'Vonage', kannel: 'Kannel', smpp: 'SMPP 3.4',
};

/** The Meta account fields; WhatsApp has a number, a business account and templates besides. */
export function metaFields(channel: ProviderChannel): FieldSpec[] {
  const whatsapp = channel === 'whatsapp';
  return [
    { key: 'accountId', label: whatsapp ? 'channel.field.phoneNumberId' : channel === 'messenger' ? 'channel.field.pageId' : 'channel.field.instagramId', kind: 'text', required: true },
    ...(whatsapp ? [{ key: 'displayNumber', label: 'channel.field.displayNumber', kind: 'text', placeholder: '+5215512345678' } as FieldSpec] : []),
    { key: 'appSecret', label: 'channel.field.appSecret', kind: 'secret', required: true, hint: 'channel.field.appSecretHint' },
    { key: 'accessToken', label: 'channel.field.accessToken', kind: 'secret', required: true },
    { key: 'verifyToken', label: 'channel.field.verifyToken', kind: 'secret', required: true, hint: 'channel.field.verifyTokenHint' },
    ...(whatsapp ? [{ key: 'businessAccountId', label: 'channel.field.businessAccountId', kind: 'text' } as FieldSpec] : []),
    { key: 'graphBaseUrl', label: 'channel.field.baseUrl', kind: 'url', hint: 'channel.field.baseUrlHint', placeholder: 'https://graph.facebook.com' },
    { key: 'apiVersion', label: 'channel.field.apiVersion', kind: 'text', placeholder: 'v21.0' },
  ];
}

export type FormValues = Record<string, string | boolean>;

/** What the form starts with: stored values as strings; secrets always empty (the API never shows them). */
export function formValuesFrom(stored: ProviderFields | MetaSettings | undefined, fields: FieldSpec[]): FormValues {
  const values: FormValues = {};
  const s = (stored ?? {}) as Record<string, unknown>;
  for (const f of fields) {
    const v = s[f.key];
    if (f.kind === 'checkbox') values[f.key] = typeof v === 'boolean' ? v : f.defaultChecked === true;
    else values[f.key] = f.kind === 'secret' || v === undefined || v === null ? '' : String(v);
  }
  return values;
}

/** Is a secret already stored for this field (the API's `<name>Set`)? */
export function secretIsSet(stored: ProviderFields | MetaSettings | undefined, key: string): boolean {
  return (stored as Record<string, unknown> | undefined)?.[`${key}Set`] === true;
}

export interface FieldProblem {
  key: string;
  problem: 'required' | 'notANumber' | 'notAUrl';
}

/**
 * The settings object to send from the form. Empty optional fields are left out; an empty secret
 * is left out too, which keeps the stored one on the server (an update never clears a secret).
 */
export function fieldsFromForm(fields: FieldSpec[], values: FormValues, stored?: ProviderFields | MetaSettings): { value: ProviderFields; problems: FieldProblem[] } {
  const value: ProviderFields = {};
  const problems: FieldProblem[] = [];
  for (const f of fields) {
    const raw = values[f.key];
    if (f.kind === 'checkbox') {
      // Sent either way: unchecked must be able to turn off what the server defaults to on.
      value[f.key] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (!text) {
      const missing = f.required && (f.kind !== 'secret' || !secretIsSet(stored, f.key));
      if (missing) problems.push({ key: f.key, problem: 'required' });
      continue;
    }
    if (f.kind === 'integer') {
      if (!/^\d+$/.test(text)) problems.push({ key: f.key, problem: 'notANumber' });
      else value[f.key] = Number(text);
    } else if (f.kind === 'url') {
      if (!/^https?:\/\/\S+$/.test(text)) problems.push({ key: f.key, problem: 'notAUrl' });
      else value[f.key] = text.replace(/\/+$/, '');
    } else {
      value[f.key] = text;
    }
  }
  return { value, problems };
}

// ---------------------------------------------------------------- SMS and Meta settings as a whole

export interface SmsForm {
  number: string;
  provider: SmsProvider;
  maxSendsPerSecond: string;
  /** One set of values per provider, so switching the picker back and forth loses nothing typed. */
  providers: Record<SmsProvider, FormValues>;
}

export function smsFormFrom(sms: SmsSettings | undefined): SmsForm {
  const providers = {} as Record<SmsProvider, FormValues>;
  for (const p of Object.keys(SMS_PROVIDER_FIELDS) as SmsProvider[]) providers[p] = formValuesFrom(sms?.[p], SMS_PROVIDER_FIELDS[p]);
  return {
    number: sms?.number ?? '',
    provider: sms?.provider ?? 'twilio',
    maxSendsPerSecond: sms?.maxSendsPerSecond !== undefined ? String(sms.maxSendsPerSecond) : '',
    providers,
  };
}

export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** `settings.sms` from the form: only the chosen provider's block goes to the server. */
export function smsSettingsFromForm(form: SmsForm, stored?: SmsSettings): { value: SmsSettings; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const number = form.number.replace(/[\s()-]/g, '');
  if (!E164.test(number)) problems.push({ key: 'number', problem: 'required' });
  const fields = SMS_PROVIDER_FIELDS[form.provider];
  // A stored secret only counts when the inbox stays with the same provider.
  const previous = stored?.provider === form.provider ? stored[form.provider] : undefined;
  const provider = fieldsFromForm(fields, form.providers[form.provider], previous);
  problems.push(...provider.problems);
  const value: SmsSettings = { number, provider: form.provider, [form.provider]: provider.value };
  const rate = form.maxSendsPerSecond.trim();
  if (rate) {
    const n = Number(rate);
    if (!(n > 0) || n > 10_000) problems.push({ key: 'maxSendsPerSecond', problem: 'notANumber' });
    else value.maxSendsPerSecond = n;
  }
  return { value, problems };
}

/** A template row being edited: all strings, possibly half typed. */
export type TemplateRow = WhatsAppTemplate;

export const TEMPLATE_NAME = /^[a-z0-9_]+$/;

export interface TemplateProblem {
  index: number;
  problem: 'name' | 'language' | 'body' | 'duplicate';
}

/** The templates to store: blank rows dropped, the rest checked (Meta's name rule, one per name and language). */
export function templatesFromRows(rows: TemplateRow[]): { value: WhatsAppTemplate[]; problems: TemplateProblem[] } {
  const value: WhatsAppTemplate[] = [];
  const problems: TemplateProblem[] = [];
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const t = { name: row.name.trim(), language: row.language.trim(), body: row.body.trim() };
    if (!t.name && !t.body) return;
    if (!TEMPLATE_NAME.test(t.name)) problems.push({ index, problem: 'name' });
    else if (t.language.length < 2) problems.push({ index, problem: 'language' });
    else if (!t.body) problems.push({ index, problem: 'body' });
    else if (seen.has(`${t.name}/${t.language}`)) problems.push({ index, problem: 'duplicate' });
    else {
      seen.add(`${t.name}/${t.language}`);
      value.push(t);
    }
  });
  return { value, problems };
}

export function metaSettingsFromForm(channel: ProviderChannel, values: FormValues, templates: TemplateRow[], stored?: MetaSettings): { value: MetaSettings; problems: (FieldProblem | TemplateProblem)[] } {
  const fields = fieldsFromForm(metaFields(channel), values, stored);
  const problems: (FieldProblem | TemplateProblem)[] = [...fields.problems];
  const value = fields.value as unknown as MetaSettings;
  if (value.displayNumber !== undefined && !E164.test(String(value.displayNumber))) problems.push({ key: 'displayNumber', problem: 'required' });
  if (channel === 'whatsapp') {
    const t = templatesFromRows(templates);
    problems.push(...t.problems);
    value.templates = t.value;
  }
  return { value, problems };
}

// ---------------------------------------------------------------- email (address, SMTP relay, IMAP mailbox)

export const EMAIL_FIELDS: FieldSpec[] = [
  { key: 'address', label: 'email.field.address', kind: 'text', required: true, placeholder: 'support@help.example.com', hint: 'email.field.addressHint' },
  { key: 'fromName', label: 'email.field.fromName', kind: 'text', placeholder: 'Example Support' },
];
export const SMTP_FIELDS: FieldSpec[] = [
  { key: 'host', label: 'channel.field.host', kind: 'text', required: true, placeholder: 'smtp.example.com' },
  { key: 'port', label: 'channel.field.port', kind: 'integer', required: true, placeholder: '587' },
  { key: 'user', label: 'channel.field.username', kind: 'text' },
  { key: 'password', label: 'channel.field.password', kind: 'secret' },
  { key: 'secure', label: 'email.field.secure', kind: 'checkbox' },
  { key: 'requireTls', label: 'email.field.requireTls', kind: 'checkbox' },
  { key: 'verifyCertificate', label: 'email.field.verifyCertificate', kind: 'checkbox', defaultChecked: true },
];
export const IMAP_FIELDS: FieldSpec[] = [
  { key: 'host', label: 'channel.field.host', kind: 'text', required: true, placeholder: 'imap.example.com' },
  { key: 'port', label: 'channel.field.port', kind: 'integer', required: true, placeholder: '993' },
  { key: 'user', label: 'channel.field.username', kind: 'text', required: true },
  { key: 'password', label: 'channel.field.password', kind: 'secret', required: true },
  { key: 'mailbox', label: 'email.field.mailbox', kind: 'text', placeholder: 'INBOX' },
  { key: 'authServId', label: 'email.field.authServId', kind: 'text', placeholder: 'mx.google.com', hint: 'email.field.authServIdHint' },
  { key: 'secure', label: 'email.field.secure', kind: 'checkbox', defaultChecked: true },
  { key: 'verifyCertificate', label: 'email.field.verifyCertificate', kind: 'checkbox', defaultChecked: true },
];

export interface EmailForm {
  main: FormValues;
  /** The relay replies leave by, and the mailbox polled: each optional, left out while its text fields are all empty. */
  smtp: FormValues;
  imap: FormValues;
}

type StoredEmail = { smtp?: ProviderFields; imap?: ProviderFields } & ProviderFields;

export function emailFormFrom(email: Record<string, unknown> | undefined): EmailForm {
  const e = email as StoredEmail | undefined;
  return { main: formValuesFrom(e, EMAIL_FIELDS), smtp: formValuesFrom(e?.smtp, SMTP_FIELDS), imap: formValuesFrom(e?.imap, IMAP_FIELDS) };
}

const blockUsed = (fields: FieldSpec[], values: FormValues) => fields.some((f) => f.kind !== 'checkbox' && typeof values[f.key] === 'string' && (values[f.key] as string).trim() !== '');

export function emailSettingsFromForm(form: EmailForm, stored?: Record<string, unknown>): { value: Record<string, unknown>; problems: (FieldProblem & { block?: 'smtp' | 'imap' })[] } {
  const s = stored as StoredEmail | undefined;
  const main = fieldsFromForm(EMAIL_FIELDS, form.main, s);
  const problems: (FieldProblem & { block?: 'smtp' | 'imap' })[] = [...main.problems];
  const value: Record<string, unknown> = { ...main.value };
  if (typeof value.address === 'string' && !/^[^\s@+]+@[^\s@]+\.[^\s@]+$/.test(value.address)) problems.push({ key: 'address', problem: 'required' });
  for (const [block, fields] of [['smtp', SMTP_FIELDS], ['imap', IMAP_FIELDS]] as const) {
    if (!blockUsed(fields, form[block])) continue;
    const r = fieldsFromForm(fields, form[block], s?.[block]);
    problems.push(...r.problems.map((p) => ({ ...p, block })));
    value[block] = r.value;
  }
  return { value, problems };
}

/** Where an inbox of a channel keeps its channel settings (the server's `channelSettingsKey`). */
export function channelSettingsKey(channel: ProviderChannel): 'sms' | 'meta' {
  return channel === 'sms' ? 'sms' : 'meta';
}

/** The settings body of a create or update of a provider channel inbox. */
export function channelSettingsBody(channel: ProviderChannel, value: SmsSettings | MetaSettings): Partial<InboxSettings> {
  return channel === 'sms' ? { sms: value as SmsSettings } : { meta: value as MetaSettings };
}
