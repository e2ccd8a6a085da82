import { Type, type Static } from 'typebox';

const Secret = Type.String({ minLength: 1, maxLength: 500 });
const SecretSet = Type.Optional(Type.Boolean());
const Id = Type.String({ minLength: 1, maxLength: 200 });
const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' });
/** A provider's REST base URL: the provider's public API unless set (tests point it at a local fake). */
const BaseUrl = Type.Optional(Type.String({ minLength: 8, maxLength: 500, pattern: '^https?://' }));

/** A schema accepting one of these strings, typed as their union (a Union of a mapped array would type as never). */
const oneOf = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));

export const SMS_PROVIDERS = ['twilio', 'sinch', 'vonage', 'kannel', 'smpp'] as const;
export type SmsProviderName = (typeof SMS_PROVIDERS)[number];

/** Vonage's webhook signing methods: the legacy md5 hash of parameters + secret, or an HMAC keyed by the secret. */
export const VONAGE_SIGNATURE_METHODS = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

export const SmsSettingsSchema = Type.Object(
  {
    /** The number this inbox sends from and receives on, E.164 (`+5215512345678`). A number belongs to one inbox (CO-1). */
    number: Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' }),
    provider: oneOf(SMS_PROVIDERS),
    /** Outbound messages per second from this number (the carrier's limit for the number type). */
    maxSendsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
    twilio: Type.Optional(Type.Object({ accountSid: Id, authToken: Type.Optional(Secret), authTokenSet: SecretSet, baseUrl: BaseUrl }, { additionalProperties: false })),
    sinch: Type.Optional(
      Type.Object(
        {
          servicePlanId: Id,
          apiToken: Type.Optional(Secret),
          apiTokenSet: SecretSet,
          /** Callbacks carry `Authorization: Bearer <callbackSecret>` (configured on the Sinch callback URL). */
          callbackSecret: Type.Optional(Secret),
          callbackSecretSet: SecretSet,
          region: Type.Optional(Type.String({ pattern: '^[a-z]{2}$' })),
          baseUrl: BaseUrl,
        },
        { additionalProperties: false },
      ),
    ),
    vonage: Type.Optional(
      Type.Object(
        {
          apiKey: Id,
          apiSecret: Type.Optional(Secret),
          apiSecretSet: SecretSet,
          /** Signed webhooks: `sig` = md5/sha256 HMAC of the sorted parameters with this secret. */
          signatureSecret: Type.Optional(Secret),
          signatureSecretSet: SecretSet,
          /** The signing method chosen in Vonage's dashboard; Vonage's default is `md5hash`. */
          signatureMethod: Type.Optional(oneOf(VONAGE_SIGNATURE_METHODS)),
          baseUrl: BaseUrl,
        },
        { additionalProperties: false },
      ),
    ),
    kannel: Type.Optional(
      Type.Object(
        {
          /** smsbox's sendsms URL, e.g. `http://kannel.local:13013/cgi-bin/sendsms`. */
          sendUrl: Type.String({ minLength: 8, maxLength: 500, pattern: '^https?://' }),
          username: Id,
          password: Type.Optional(Secret),
          passwordSet: SecretSet,
          /** The SMSC id to route through (`smsc` parameter), when smsbox has several. */
          smsc: Type.Optional(Id),
          /** Kannel's get-url and dlr-url carry `token=<webhookToken>`: Kannel signs nothing, so the URL is the secret. */
          webhookToken: Type.Optional(Secret),
          webhookTokenSet: SecretSet,
        },
        { additionalProperties: false },
      ),
    ),
    smpp: Type.Optional(
      Type.Object(
        {
          host: Host,
          port: Type.Integer({ minimum: 1, maximum: 65535 }),
          systemId: Type.String({ minLength: 1, maxLength: 15 }),
          password: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
          passwordSet: SecretSet,
          systemType: Type.Optional(Type.String({ maxLength: 12 })),
          /** submit_sm not yet answered at once on the bind. */
          windowSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          enquireLinkSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600 })),
          tls: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type SmsSettings = Static<typeof SmsSettingsSchema>;

/** The SMS settings of an inbox's settings object, or null. */
export function smsSettingsOf(inboxSettings: unknown): SmsSettings | null {
  const sms = (inboxSettings as { sms?: SmsSettings } | null)?.sms;
  return sms && typeof sms.number === 'string' && typeof sms.provider === 'string' ? sms : null;
}
