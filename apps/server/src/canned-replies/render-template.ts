/**
 * Fills `{{path.to.value}}` tags from a plain object. Unknown tags become empty; the output is
 * plain text (it is shown as text, never as HTML), so nothing is escaped here.
 */
export function renderTemplate(template: string, values: Record<string, Record<string, string>>): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)\.([a-zA-Z]+)\s*\}\}/g, (_, scope: string, key: string) => {
    // Own properties only: `{{contact.constructor}}` must not reach Object.prototype.
    const group = Object.hasOwn(values, scope) ? values[scope] : undefined;
    return group && Object.hasOwn(group, key) ? (group[key] ?? '') : '';
  });
}
