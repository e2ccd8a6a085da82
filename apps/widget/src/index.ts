/**
 * Parley web chat widget. Embed with one tag:
 *
 * ```html
 * <script>window.parleySettings = { identifier: 'user-42', identifierHash: '<hex HMAC>' };</script>
 * <script src="https://PARLEY_HOST/widget.js" data-inbox="PUBLIC_ID" data-locale="es-MX" async></script>
 * ```
 *
 * Then `window.parley.open()`, `.close()` and `.toggle()` drive the panel from the host page.
 */
import { resolveLocale } from './i18n.ts';
import { browserStore } from './storage.ts';
import type { ParleySettings } from './types.ts';
import { reportError } from './ui/dom.ts';
import { ParleyWidget } from './widget.ts';

declare global {
  interface Window {
    parleySettings?: ParleySettings;
    parley?: { open(): void; close(): void; toggle(): void };
    __parleyLoaded?: Record<string, true>;
  }
}

function findScript(): HTMLScriptElement | null {
  const current = document.currentScript as HTMLScriptElement | null;
  if (current && current.dataset && current.dataset.inbox) return current;
  // currentScript is null when the bundle runs from a callback or a loader; fall back to the tag.
  return document.querySelector<HTMLScriptElement>('script[data-inbox][src*="widget"]') ?? document.querySelector<HTMLScriptElement>('script[data-inbox]');
}

function readSettings(): ParleySettings {
  const raw = window.parleySettings;
  if (!raw || typeof raw !== 'object') return {};
  const pick = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const out: ParleySettings = {};
  const identifier = pick(raw.identifier);
  const identifierHash = pick(raw.identifierHash);
  const name = pick(raw.name);
  const email = pick(raw.email);
  if (identifier) out.identifier = identifier;
  if (identifierHash) out.identifierHash = identifierHash;
  if (name) out.name = name;
  if (email) out.email = email;
  return out;
}

function boot(): void {
  const script = findScript();
  const publicId = script?.dataset.inbox;
  if (!script || !publicId) {
    reportError('widget.js: no <script data-inbox="…"> found');
    return;
  }
  window.__parleyLoaded = window.__parleyLoaded ?? {};
  if (window.__parleyLoaded[publicId]) return; // included twice
  window.__parleyLoaded[publicId] = true;

  // The API lives next to widget.js (keeps a path prefix such as https://host/parley/widget.js).
  const base = new URL('.', script.src || location.href);
  const locale = resolveLocale(script.dataset.locale, typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : []);
  const widget = new ParleyWidget({ publicId, base, locale, settings: readSettings(), store: browserStore() });
  if (!window.parley) {
    window.parley = {
      open: () => widget.open(),
      close: () => widget.close(),
      toggle: () => widget.toggle(),
    };
  }
  const start = (): void => {
    widget.start().catch(reportError);
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

try {
  boot();
} catch (err) {
  reportError(err);
}
