import { describe, expect, it } from 'vitest';
import type { MetaSettings, SmsSettings } from '../api/types';
import {
  emailFormFrom, emailSettingsFromForm, fieldsFromForm, formValuesFrom, metaFields, metaSettingsFromForm, SMS_PROVIDER_FIELDS, smsFormFrom, smsSettingsFromForm, templatesFromRows,
} from './channel-form';

const storedTwilio: SmsSettings = {
  number: '+5215512345678', provider: 'twilio', maxSendsPerSecond: 1,
  twilio: { accountSid: 'AC123', authTokenSet: true, baseUrl: 'http://127.0.0.1:9/' },
};

describe('SMS connect form', () => {
  it('a new Twilio inbox needs the number, account SID and auth token', () => {
    const form = smsFormFrom(undefined);
    expect(form.provider).toBe('twilio');
    const r = smsSettingsFromForm(form);
    expect(r.problems.map((p) => p.key).sort()).toEqual(['accountSid', 'authToken', 'number']);
  });

  it('builds the chosen provider block only, trimming and dropping empty optional fields', () => {
    const form = smsFormFrom(undefined);
    form.number = '+52 55 1234 5678';
    form.providers.twilio = { accountSid: ' AC9 ', authToken: 'tok', baseUrl: 'http://127.0.0.1:4010/' };
    form.providers.sinch = { servicePlanId: 'left-over' };
    expect(smsSettingsFromForm(form)).toEqual({
      value: { number: '+525512345678', provider: 'twilio', twilio: { accountSid: 'AC9', authToken: 'tok', baseUrl: 'http://127.0.0.1:4010' } },
      problems: [],
    });
  });

  it('editing shows no secret and an empty secret keeps the stored one (left out of the update)', () => {
    const form = smsFormFrom(storedTwilio);
    expect(form.providers.twilio).toEqual({ accountSid: 'AC123', authToken: '', baseUrl: 'http://127.0.0.1:9/' });
    const r = smsSettingsFromForm(form, storedTwilio);
    expect(r.problems).toEqual([]);
    expect(r.value.twilio).toEqual({ accountSid: 'AC123', baseUrl: 'http://127.0.0.1:9' });
    expect(r.value.maxSendsPerSecond).toBe(1);
  });

  it('a stored secret of another provider does not count after switching provider', () => {
    const form = smsFormFrom(storedTwilio);
    form.provider = 'vonage';
    form.providers.vonage = { apiKey: 'k', apiSecret: '', signatureSecret: '', baseUrl: '' };
    expect(smsSettingsFromForm(form, storedTwilio).problems).toEqual([{ key: 'apiSecret', problem: 'required' }]);
  });

  it('SMPP ports and windows are whole numbers; TLS is a flag', () => {
    const values = { host: 'smsc.local', port: '2775', systemId: 'parley', password: 'secret', systemType: '', windowSize: 'ten', enquireLinkSeconds: '', tls: true };
    const r = fieldsFromForm(SMS_PROVIDER_FIELDS.smpp, values);
    expect(r.problems).toEqual([{ key: 'windowSize', problem: 'notANumber' }]);
    expect(r.value).toEqual({ host: 'smsc.local', port: 2775, systemId: 'parley', password: 'secret', tls: true });
    expect(fieldsFromForm(SMS_PROVIDER_FIELDS.smpp, { ...values, windowSize: '', tls: false }).value.tls).toBe(false);
  });

  it('a Kannel send URL must be an http(s) URL', () => {
    const r = fieldsFromForm(SMS_PROVIDER_FIELDS.kannel, { sendUrl: 'kannel:13013', username: 'u', password: 'p', webhookToken: 't' });
    expect(r.problems).toEqual([{ key: 'sendUrl', problem: 'notAUrl' }]);
  });
});

describe('Meta connect form', () => {
  const stored: MetaSettings = { accountId: '1065', appSecretSet: true, accessTokenSet: true, verifyTokenSet: true, templates: [] };

  it('WhatsApp asks for the number and business account, Messenger does not', () => {
    expect(metaFields('whatsapp').map((f) => f.key)).toContain('displayNumber');
    expect(metaFields('messenger').map((f) => f.key)).not.toContain('displayNumber');
    expect(metaFields('instagram')[0]!.label).toBe('channel.field.instagramId');
  });

  it('keeps stored secrets on edit and sends the template list', () => {
    const values = formValuesFrom(stored, metaFields('whatsapp'));
    expect(values.appSecret).toBe('');
    const r = metaSettingsFromForm('whatsapp', values, [{ name: 'order_update', language: 'es_MX', body: 'Hola {{1}}' }, { name: '', language: '', body: '' }], stored);
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual({ accountId: '1065', templates: [{ name: 'order_update', language: 'es_MX', body: 'Hola {{1}}' }] });
  });

  it('a new account needs its secrets', () => {
    const r = metaSettingsFromForm('messenger', { accountId: '55' }, [], undefined);
    expect(r.problems.map((p) => ('key' in p ? p.key : p.index)).sort()).toEqual(['accessToken', 'appSecret', 'verifyToken']);
    expect(r.value.templates).toBeUndefined();
  });
});

describe('template list', () => {
  it('checks Meta names, languages, bodies and duplicates', () => {
    const r = templatesFromRows([
      { name: 'Order Update', language: 'es', body: 'x' },
      { name: 'ok_1', language: 'e', body: 'x' },
      { name: 'ok_2', language: 'en', body: ' ' },
      { name: 'ok_3', language: 'en', body: 'a' },
      { name: 'ok_3', language: 'en', body: 'b' },
      { name: 'ok_3', language: 'pt_BR', body: 'c' },
    ]);
    expect(r.problems).toEqual([
      { index: 0, problem: 'name' }, { index: 1, problem: 'language' }, { index: 2, problem: 'body' }, { index: 4, problem: 'duplicate' },
    ]);
    expect(r.value.map((t) => `${t.name}/${t.language}`)).toEqual(['ok_3/en', 'ok_3/pt_BR']);
  });
});

describe('email connect form', () => {
  it('an address alone is enough: no relay, no mailbox', () => {
    const form = emailFormFrom(undefined);
    form.main.address = 'soporte@ayuda.example.mx';
    expect(emailSettingsFromForm(form)).toEqual({ value: { address: 'soporte@ayuda.example.mx' }, problems: [] });
  });

  it('a relay or mailbox, once begun, needs its required fields; checkboxes keep the server defaults', () => {
    const form = emailFormFrom(undefined);
    expect(form.imap.secure).toBe(true);
    expect(form.smtp.verifyCertificate).toBe(true);
    form.main.address = 'soporte@ayuda.example.mx';
    form.smtp.host = 'smtp.example.mx';
    form.imap.host = 'imap.example.mx';
    const r = emailSettingsFromForm(form);
    expect(r.problems).toEqual([
      { key: 'port', problem: 'required', block: 'smtp' },
      { key: 'port', problem: 'required', block: 'imap' },
      { key: 'user', problem: 'required', block: 'imap' },
      { key: 'password', problem: 'required', block: 'imap' },
    ]);
  });

  it('editing keeps stored passwords and refuses a bad address', () => {
    const stored = { address: 'a@b.mx', smtp: { host: 'smtp.b.mx', port: 465, secure: true, passwordSet: true, user: 'a@b.mx' } };
    const form = emailFormFrom(stored);
    expect(form.smtp).toMatchObject({ host: 'smtp.b.mx', port: '465', secure: true, password: '' });
    expect(emailSettingsFromForm(form, stored).value).toEqual({
      address: 'a@b.mx', smtp: { host: 'smtp.b.mx', port: 465, user: 'a@b.mx', secure: true, requireTls: false, verifyCertificate: true },
    });
    form.main.address = 'a+x@b.mx';
    expect(emailSettingsFromForm(form, stored).problems).toEqual([{ key: 'address', problem: 'required' }]);
  });
});
