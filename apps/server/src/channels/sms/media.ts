import type { InboundAttachment } from '../channel.ts';
import type { InboundSms, SmsProvider } from './provider.ts';
import type { SmsSettings } from './settings.ts';
import { PROVIDER_TIMEOUT_MS } from './provider-http.ts';
import { guardedFetch } from '../../net/guarded-fetch.ts';
import type { PrivateTargets } from '../../net/private-targets.ts';

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'video/mp4': 'mp4', 'audio/mpeg': 'mp3', 'text/vcard': 'vcf', 'application/pdf': 'pdf' };

/**
 * Downloads the media of an MMS from the provider (with the provider's credentials, since its
 * media URLs may require them) before the message is stored. A media file that cannot be had
 * (too large, gone, provider down) is left out and its URL stays in the message's details:
 * the text must not be lost for it. The URL comes in the (tenant-signed) webhook, so it may not
 * lead into the server's network (guardedFetch).
 */
export async function fetchSmsMedia(provider: SmsProvider, settings: SmsSettings, sms: InboundSms, maxBytes: number, privateTargets: PrivateTargets): Promise<{ attachments: InboundAttachment[]; problems: string[] }> {
  const attachments: InboundAttachment[] = [];
  const problems: string[] = [];
  const authorization = provider.mediaAuthorization?.(settings) ?? null;
  for (const [i, media] of sms.media.entries()) {
    try {
      // The provider's URL may redirect to its storage; the Authorization header is dropped when the redirect leaves the host.
      const res = await guardedFetch(media.url, { headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS), privateTargets });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > maxBytes) throw new Error(`${declared} bytes, more than ${maxBytes}`);
      const content = await readLimited(res, maxBytes);
      const contentType = (media.contentType ?? res.headers.get('content-type') ?? 'application/octet-stream').split(';')[0]!.trim();
      attachments.push({ filename: `media-${i + 1}.${EXTENSIONS[contentType] ?? 'bin'}`, contentType, content });
    } catch (err) {
      problems.push(`media ${i + 1} (${media.url}): ${(err as Error).message}`);
    }
  }
  return { attachments, problems };
}

async function readLimited(res: Response, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) throw new Error(`more than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
