import sanitizeHtml from 'sanitize-html';

/**
 * Email HTML made safe for the agent app: no script, styles, forms, frames or event handlers;
 * links open in a new tab without a referrer; remote images are not loaded until the agent
 * asks (their address moves to `data-remote-src`, the app shows a "load images" button);
 * `cid:` images stay as `cid:` for ingest to point at the stored attachment.
 */
export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: [
      'a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'code', 'col', 'colgroup', 'dd', 'del', 'div', 'dl', 'dt', 'em', 'font',
      'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'li', 'ol', 'p', 'pre', 's', 'small', 'span', 'strike', 'strong',
      'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul', 'center',
    ],
    allowedAttributes: {
      a: ['href', 'title', 'target', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height', 'data-remote-src'],
      td: ['colspan', 'rowspan', 'align', 'valign', 'width'],
      th: ['colspan', 'rowspan', 'align', 'valign', 'width'],
      table: ['width', 'border', 'cellpadding', 'cellspacing', 'align'],
      font: ['color', 'size'],
      '*': ['dir', 'lang'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['cid', 'data'] },
    allowProtocolRelative: false,
    // Deeply nested input (see htmllargecallstack.eml) is flattened instead of recursed into.
    nestingLimit: 100,
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' } }),
      img: (tagName, attribs) => {
        const src = attribs.src ?? '';
        if (/^(cid:|data:image\/(png|gif|jpeg|webp);)/i.test(src)) return { tagName, attribs };
        const { src: _remote, ...rest } = attribs;
        // A remote image is a tracking pixel until the agent chooses to load it.
        return { tagName, attribs: /^https?:\/\//i.test(src) ? { ...rest, 'data-remote-src': src } : rest };
      },
    },
  });
}
