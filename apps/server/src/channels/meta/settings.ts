import { Type, type Static } from 'typebox';

const Secret = Type.String({ minLength: 1, maxLength: 1000 });
const SecretSet = Type.Optional(Type.Boolean());

/** An approved WhatsApp message template the agent may send outside the 24-hour window. */
export const WhatsAppTemplateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 512, pattern: '^[a-z0-9_]+$' }),
    language: Type.String({ minLength: 2, maxLength: 15 }),
    /** The template's body as approved, with `{{1}}`-style parameters: shown to the agent, filled on send. */
    body: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** One Meta account connected as an inbox: a WhatsApp business number, a Facebook page (Messenger) or an Instagram account. */
export const MetaSettingsSchema = Type.Object(
  {
    /** WhatsApp: the phone number id; Messenger: the page id; Instagram: the Instagram account id. Webhooks name it. */
    accountId: Type.String({ minLength: 1, maxLength: 100, pattern: '^[0-9A-Za-z_-]+$' }),
    /** The number customers see (WhatsApp), for display and country rules. */
    displayNumber: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' })),
    /** The app's secret: `X-Hub-Signature-256` of every webhook delivery is checked with it. */
    appSecret: Type.Optional(Secret),
    appSecretSet: SecretSet,
    /** The system-user or page access token used to send. */
    accessToken: Type.Optional(Secret),
    accessTokenSet: SecretSet,
    /** What Meta echoes back in the webhook verification handshake (`hub.verify_token`). */
    verifyToken: Type.Optional(Secret),
    verifyTokenSet: SecretSet,
    /** Graph API base URL, `https://graph.facebook.com` unless set (tests point it at a local fake). */
    graphBaseUrl: Type.Optional(Type.String({ minLength: 8, maxLength: 500, pattern: '^https?://' })),
    apiVersion: Type.Optional(Type.String({ pattern: '^v[0-9]+\\.[0-9]+$' })),
    /** WhatsApp business account id (templates live there). */
    businessAccountId: Type.Optional(Type.String({ maxLength: 100 })),
    templates: Type.Optional(Type.Array(WhatsAppTemplateSchema, { maxItems: 200 })),
    /**
     * Messenger/Instagram: the app has Meta's Human Agent permission, so agents may answer up to
     * 7 days after the customer's last message (sent with the HUMAN_AGENT tag after the first 24 h).
     */
    humanAgentTag: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type MetaSettings = Static<typeof MetaSettingsSchema>;

/** The Meta settings of an inbox's settings object, or null. */
export function metaSettingsOf(inboxSettings: unknown): MetaSettings | null {
  const meta = (inboxSettings as { meta?: MetaSettings } | null)?.meta;
  return meta && typeof meta.accountId === 'string' ? meta : null;
}
