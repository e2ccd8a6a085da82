/**
 * A WhatsApp template body with its `{{1}}`, `{{2}}` … parameters filled: what the agent sees
 * of the message Meta renders for the customer. Exactly as many parameters as the body names.
 */
export function renderTemplate(body: string, parameters: string[]): { ok: true; text: string } | { ok: false; error: string } {
  const used = [...body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1]));
  const needed = used.length ? Math.max(...used) : 0;
  if (parameters.length !== needed) return { ok: false, error: `the template takes ${needed} parameter${needed === 1 ? '' : 's'}, ${parameters.length} given` };
  return { ok: true, text: body.replace(/\{\{\s*(\d+)\s*\}\}/g, (_whole, n: string) => parameters[Number(n) - 1] ?? '') };
}
