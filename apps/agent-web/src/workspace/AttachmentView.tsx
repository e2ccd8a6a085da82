import { useEffect, useState } from 'react';
import { fetchBlob } from '../api/client';
import type { Attachment } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { Icon } from '../ui/Icon';

/**
 * Raster formats a browser renders without running code. SVG and HTML can carry script, so
 * they (and everything else) are only offered as downloads, never rendered inline.
 */
export const INLINE_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

export function isInlineImage(contentType: string): boolean {
  const base = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (INLINE_IMAGE_TYPES as readonly string[]).includes(base);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function AttachmentView({ attachment: a }: { attachment: Attachment }) {
  return isInlineImage(a.contentType) ? <InlineImage attachment={a} /> : <DownloadLink attachment={a} />;
}

/**
 * Object URLs of fetched inline images by attachment URL (an attachment's bytes never change), so a
 * message that remounts or a conversation opened again shows its images at once. The oldest are
 * released past a bound; an image already on screen keeps showing after its URL is revoked.
 */
const imageUrls = new Map<string, { url: Promise<string>; ready?: string }>();
const IMAGE_URLS_KEPT = 200;

const imageKey = (a: Attachment) => `${a.url}\n${a.contentType}`;

function inlineImageUrl(a: Attachment): Promise<string> {
  const key = imageKey(a);
  const known = imageUrls.get(key);
  if (known) return known.url;
  // Re-type the blob with the allow-listed type so a mislabelled file cannot become SVG/HTML.
  const type = a.contentType.split(';')[0]?.trim().toLowerCase();
  const entry: { url: Promise<string>; ready?: string } = {
    url: fetchBlob(a.url).then((blob) => (entry.ready = URL.createObjectURL(new Blob([blob], { type })))),
  };
  entry.url.catch(() => imageUrls.delete(key));
  imageUrls.set(key, entry);
  for (const [oldest, released] of imageUrls) {
    if (imageUrls.size <= IMAGE_URLS_KEPT) break;
    imageUrls.delete(oldest);
    released.url.then((u) => URL.revokeObjectURL(u), () => undefined);
  }
  return entry.url;
}

function InlineImage({ attachment: a }: { attachment: Attachment }) {
  const { t } = useI18n();
  const [src, setSrc] = useState<string | null>(() => imageUrls.get(imageKey(a))?.ready ?? null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let cancelled = false;
    inlineImageUrl(a).then((url) => !cancelled && setSrc(url), () => !cancelled && setFailed(true));
    return () => {
      cancelled = true;
    };
  }, [a.url, a.contentType]);
  if (failed) return <DownloadLink attachment={a} />;
  return (
    <figure className="att-image">
      {src ? <img src={src} alt={a.filename} loading="lazy" /> : <div className="att-image-loading" aria-label={t('common.loading')} />}
      <figcaption><DownloadLink attachment={a} compact /></figcaption>
    </figure>
  );
}

function DownloadLink({ attachment: a, compact }: { attachment: Attachment; compact?: boolean }) {
  const { t } = useI18n();
  const download = async () => {
    const blob = await fetchBlob(a.url);
    // octet-stream + download attribute: the browser saves the file and never renders it in our origin.
    const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = a.filename || 'attachment';
    link.rel = 'noopener';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <button type="button" className={compact ? 'att-link compact' : 'att-file'} onClick={() => void download().catch(() => undefined)}
      title={t('message.download', { name: a.filename })}>
      <Icon name={compact ? 'download' : 'file'} size={compact ? 12 : 18} />
      <span className="att-name">{a.filename}</span>
      <span className="att-size">{formatSize(a.size)}</span>
    </button>
  );
}
