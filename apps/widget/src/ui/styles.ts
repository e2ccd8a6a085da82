/**
 * All widget CSS, inside the shadow root. `:host` declarations are `!important` because,
 * across shadow boundaries, important rules of the inner context beat important rules of the
 * page — so even `* { display: none !important }` on the host page cannot hide the widget;
 * `all: initial` stops inherited page styles (font, colour) from leaking in.
 */
export const CSS = `
:host{all:initial!important;display:block!important;position:fixed!important;right:0!important;bottom:0!important;left:auto!important;top:auto!important;width:0!important;height:0!important;margin:0!important;padding:0!important;border:0!important;z-index:2147483000!important;visibility:visible!important;opacity:1!important;transform:none!important;filter:none!important;contain:none!important;overflow:visible!important}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:14px;line-height:1.45;color:#111827;-webkit-font-smoothing:antialiased;text-align:left;letter-spacing:normal}
button{font:inherit;color:inherit;cursor:pointer;background:none;border:0;padding:0;margin:0}
button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.launcher{position:fixed;right:20px;bottom:20px;width:58px;height:58px;border-radius:50%;background:var(--accent);color:var(--on-accent);box-shadow:0 6px 24px rgba(17,24,39,.24);display:flex;align-items:center;justify-content:center;transition:transform .15s ease,box-shadow .15s ease}
.launcher:hover{transform:scale(1.06);box-shadow:0 8px 28px rgba(17,24,39,.3)}
.badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#ef4444;color:#fff;font-size:12px;font-weight:700;display:flex;align-items:center;justify-content:center;border:2px solid #fff}
.panel{position:fixed;right:20px;bottom:92px;width:376px;height:min(620px,calc(100vh - 116px));background:#fff;border-radius:18px;box-shadow:0 16px 56px rgba(17,24,39,.2),0 2px 8px rgba(17,24,39,.08);display:flex;flex-direction:column;overflow:hidden}
.panel.anim{animation:pop .18s ease-out}
@keyframes pop{from{opacity:0;transform:translateY(12px) scale(.98)}to{opacity:1;transform:none}}
@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;border-radius:0}.launcher.open{display:none}.composer textarea,.field input,.field textarea{font-size:16px}}
.header{background:var(--accent);color:var(--on-accent);padding:18px 16px 16px 20px;display:flex;align-items:flex-start;gap:12px;flex:none}
.title{font-size:17px;font-weight:650;line-height:1.3;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.status{font-size:12.5px;opacity:.88;display:flex;align-items:center;gap:6px;margin-top:3px}
.dot{width:8px;height:8px;border-radius:50%;background:#9ca3af;flex:none;box-shadow:0 0 0 2px rgba(255,255,255,.35)}
.dot.on{background:#22c55e}
.head-text{flex:1;min-width:0}
.icon-btn{width:34px;height:34px;border-radius:50%;display:flex;align-items:center;justify-content:center;flex:none;opacity:.9}
.icon-btn:hover{background:rgba(127,127,127,.18);opacity:1}
.body{flex:1;min-height:0;overflow-y:auto;background:#f6f7f9;padding:16px 14px 8px;overscroll-behavior:contain}
.list{display:flex;flex-direction:column;gap:2px}
.row{display:flex;flex-direction:column;align-items:flex-start;margin-top:6px}
.row.in{align-items:flex-end}
.row.system{align-items:center}
.sender{font-size:12px;color:#6b7280;margin:6px 0 3px 10px}
.bubble{max-width:80%;padding:9px 13px;border-radius:18px;background:#fff;color:#111827;border:1px solid #e7e9ee;border-bottom-left-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.row.in .bubble{background:var(--accent);color:var(--on-accent);border-color:transparent;border-bottom-left-radius:18px;border-bottom-right-radius:6px}
.bubble.media,.row.in .bubble.media{padding:0;background:transparent;border:0;color:#111827}
.bubble.media .file{background:#fff;border:1px solid #e7e9ee}
.row.system .bubble{background:transparent;border:0;color:#6b7280;font-size:12.5px;text-align:center;max-width:90%}
.row.pending .bubble{opacity:.65}
.row.failed .bubble{opacity:.8;box-shadow:0 0 0 2px #fca5a5}
.bubble a{color:inherit;text-decoration:underline;text-underline-offset:2px}
.meta{font-size:11.5px;color:#6b7280;margin:3px 6px 0;display:flex;gap:6px;align-items:center}
.meta.failed{color:#b91c1c}
.link-btn{text-decoration:underline;color:#b91c1c;font-weight:600}
.atts{display:flex;flex-direction:column;gap:6px}
.atts:not(:first-child){margin-top:6px}
.thumb{display:block;border-radius:12px;overflow:hidden;background:rgba(127,127,127,.15);min-width:120px;min-height:90px;max-width:240px}
.thumb img{display:block;max-width:240px;max-height:240px;width:auto;height:auto}
.file{display:flex;align-items:center;gap:8px;padding:8px 10px;border-radius:12px;background:rgba(127,127,127,.12);text-align:left;max-width:260px}
.file span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.file small{opacity:.7;white-space:nowrap}
.typing{font-size:12.5px;color:#6b7280;padding:4px 20px 6px;display:flex;align-items:center;gap:6px;background:#f6f7f9;flex:none}
.dots{display:inline-flex;gap:3px}
.dots i{width:5px;height:5px;border-radius:50%;background:#9ca3af;animation:blink 1.2s infinite}
.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}
@keyframes blink{0%,80%,100%{opacity:.3}40%{opacity:1}}
.notice{margin:8px 12px 0;padding:8px 10px 8px 12px;border-radius:10px;background:#fef2f2;color:#991b1b;border:1px solid #fecaca;font-size:13px;display:flex;gap:8px;align-items:flex-start;flex:none}
.notice.info{background:#eff6ff;color:#1e40af;border-color:#bfdbfe}
.notice p{margin:0;flex:1}
.notice button{opacity:.7;line-height:1}
.composer{display:flex;align-items:flex-end;gap:6px;padding:10px 10px 12px;border-top:1px solid #eceef2;background:#fff;flex:none}
.composer textarea{flex:1;resize:none;border:1px solid #e2e5ea;border-radius:20px;padding:9px 14px;font:inherit;color:#111827;background:#fff;max-height:120px;min-height:40px;line-height:1.4;outline:none}
.composer textarea:focus{border-color:var(--accent);box-shadow:0 0 0 3px var(--ring)}
.composer .icon-btn{width:40px;height:40px;color:#6b7280}
.composer .send{background:var(--accent);color:var(--on-accent);opacity:1}
.composer .send:disabled{opacity:.45;cursor:default}
.form{padding:22px 20px;display:flex;flex-direction:column;gap:14px;overflow-y:auto;flex:1}
.form h2{font-size:16px;font-weight:650;margin:0}
.form p.intro{margin:0;color:#4b5563}
.field{display:flex;flex-direction:column;gap:5px}
.field label{font-size:13px;font-weight:600;color:#374151}
.field label small{font-weight:400;color:#6b7280}
.field input,.field textarea{font:inherit;color:#111827;background:#fff;border:1px solid #d1d5db;border-radius:10px;padding:10px 12px;outline:none;width:100%}
.field textarea{resize:vertical;min-height:96px}
.field input:focus,.field textarea:focus{border-color:var(--accent);box-shadow:0 0 0 3px var(--ring)}
.field input[aria-invalid=true],.field textarea[aria-invalid=true]{border-color:#dc2626}
.field .err{font-size:12px;color:#b91c1c}
.primary{background:var(--accent);color:var(--on-accent);border-radius:10px;padding:11px 14px;font-weight:600;text-align:center}
.primary:disabled{opacity:.6;cursor:default}
.done{flex:1;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:12px;padding:24px;text-align:center;color:#374151}
.done svg{color:#22c55e}
.loading{flex:1;display:flex;align-items:center;justify-content:center}
.spinner{width:26px;height:26px;border-radius:50%;border:3px solid #e5e7eb;border-top-color:var(--accent);animation:spin .8s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;
