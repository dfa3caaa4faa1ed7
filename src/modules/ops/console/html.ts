/**
 * HTML built safely: every value put into an `html` template is escaped unless it is itself Html (made by this
 * module). Pages are plain server-rendered HTML; nothing here runs in the browser.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** A path with its query: empty values left out, so that filters stay in the URL only when set. */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

export function when(value: Date | string | null | undefined): Html {
  if (!value) return html`<span class="muted">-</span>`;
  const date = value instanceof Date ? value : new Date(value);
  return html`<time datetime="${date.toISOString()}">${date.toISOString().replace('T', ' ').slice(0, 19)}</time>`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? '';
}

/** A table of rows: each column a title and how a row's cell is drawn. */
export function table<T>(rows: readonly T[], columns: ReadonlyArray<readonly [string, (row: T) => Part]>, empty = 'none'): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><thead><tr>${columns.map(([title]) => html`<th>${title}</th>`)}</tr></thead><tbody>${rows.map(
    (row) => html`<tr>${columns.map(([, cell]) => html`<td>${cell(row)}</td>`)}</tr>`,
  )}</tbody></table>`;
}

/** Any plain value drawn as tables: objects as key and value, arrays of objects as rows. */
export function dataView(value: unknown): Html {
  if (value === null || value === undefined) return html`<span class="muted">-</span>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<span class="muted">none</span>`;
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      return table(value as Array<Record<string, unknown>>, keys.map((k) => [k, (row: Record<string, unknown>) => dataView(row[k])] as const));
    }
    return html`${value.map((v, i) => html`${i > 0 ? ', ' : ''}${dataView(v)}`)}`;
  }
  if (value instanceof Date) return when(value);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return html`<span class="muted">-</span>`;
    return html`<table class="kv"><tbody>${entries.map(([k, v]) => html`<tr><th>${k}</th><td>${dataView(v)}</td></tr>`)}</tbody></table>`;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return when(value);
  return html`${String(value)}`;
}
