import { AsyncApiDocument, AsyncApiMessage, JsonSchema } from '@sync-hub/contracts';

/**
 * The readable page of the AsyncAPI document at /docs/events: channels, who sends and reads them, and every message's
 * key, headers and payload fields, from the document alone. Plain HTML, no script and nothing from another host (the
 * gateway may have no internet); every text is escaped.
 */
export function eventDocsPage(doc: AsyncApiDocument): string {
  const schemas = doc.components.schemas;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(doc.info.title)}</h1>
<p class="meta">AsyncAPI ${esc(doc.asyncapi)} · version ${esc(doc.info.version)} · the document:
<a href="/docs/events/asyncapi.yaml">asyncapi.yaml</a> · <a href="/docs/events/asyncapi.json">asyncapi.json</a> ·
the REST API: <a href="/docs">/docs</a></p>
${paragraphs(doc.info.description)}
${Object.values(doc.servers)
  .map((s) => `<p><strong>${esc(s.title)}</strong> (${esc(s.protocol)}): ${esc(s.description)}</p>`)
  .join('\n')}
<h2 id="channels">Channels</h2>
<table>
<thead><tr><th>topic</th><th>what</th><th>cleanup.policy</th><th>sent by</th><th>read by</th></tr></thead>
<tbody>
${Object.entries(doc.channels)
  .map(([id, c]) => {
    const apps = (action: string) => [...new Set(operationsOf(doc, id, action).map((o) => o.app))].join(', ');
    return `<tr><td><a href="#channel-${attr(id)}"><code>${esc(c.address)}</code></a></td><td>${text(c.summary)}</td>
<td>${esc(c.bindings.kafka.topicConfiguration['cleanup.policy'].join(', '))}</td><td>${esc(apps('send'))}</td><td>${esc(apps('receive'))}</td></tr>`;
  })
  .join('\n')}
</tbody>
</table>
${Object.entries(doc.channels)
  .map(([id, c]) => {
    const ops = (action: string) =>
      operationsOf(doc, id, action)
        .map((o) => `<li><strong>${esc(o.app)}</strong>: ${text(o.summary)}</li>`)
        .join('') || '<li>none</li>';
    const messages = Object.values(c.messages).map((r) => refName(r.$ref));
    return `<section id="channel-${attr(id)}">
<h2><code>${esc(c.address)}</code></h2>
<p>${text(c.summary)}</p>
${paragraphs(c.description)}
<p>cleanup.policy: <code>${esc(c.bindings.kafka.topicConfiguration['cleanup.policy'].join(', '))}</code> · messages:
${messages.map((m) => `<a href="#message-${attr(m)}">${esc(m)}</a>`).join(', ')}</p>
<div class="apps"><div><h4>Sent by</h4><ul>${ops('send')}</ul></div><div><h4>Read by</h4><ul>${ops('receive')}</ul></div></div>
</section>`;
  })
  .join('\n')}
<h2 id="messages">Messages</h2>
${Object.values(doc.components.messages)
  .map((m) => messageSection(m, schemas))
  .join('\n')}
<h2 id="schemas">Schemas</h2>
${Object.entries(schemas)
  .map(([name, s]) => `<section id="schema-${attr(name)}"><h3>${esc(name)}</h3>${fieldsTable(s)}</section>`)
  .join('\n')}
</body>
</html>
`;
}

function messageSection(m: AsyncApiMessage, schemas: Record<string, JsonSchema>): string {
  const key = m.bindings.kafka.key;
  const envelope = envelopeParts(m.payload);
  const headers = resolve(m.headers, schemas);
  const example = m.examples[0];
  return `<section id="message-${attr(m.name)}">
<h3>${esc(m.name)} <small>${esc(m.title)}</small></h3>
<p>${text(m.summary)}</p>
${m.description ? paragraphs(m.description) : ''}
<dl>
<dt>key</dt><dd>${typeWithConstraints(key)} — ${text(str(key.description ?? ''))}${
    Array.isArray(key.examples) ? ` e.g. <code>${esc(str(key.examples[0]))}</code>` : ''
  }</dd>
<dt>headers</dt><dd>${headers.properties ? fieldsTable(headers) : 'none'}</dd>
${
  envelope
    ? `<dt>value</dt><dd>the <a href="#schema-EventEnvelope">envelope</a> with <code>type</code> =
<code>${esc(envelope.type)}</code>, <code>version</code> = 1 and <code>payload</code> a
<a href="#schema-${attr(envelope.payload)}">${esc(envelope.payload)}</a>:
${fieldsTable(schemas[envelope.payload] ?? {})}</dd>`
    : `<dt>value</dt><dd>${typeWithConstraints(m.payload)}${
        m.payload.description ? ` — ${text(str(m.payload.description))}` : ''
      }</dd>`
}
</dl>
${
  example
    ? `<details><summary>Example: ${esc(example.summary)}</summary>${
        example.headers ? `<p>headers</p><pre>${esc(JSON.stringify(example.headers, null, 2))}</pre>` : ''
      }<p>value</p><pre>${esc(JSON.stringify(example.payload, null, 2))}</pre></details>`
    : ''
}
</section>`;
}

/** The envelope's `type` and the payload's schema name, for a message whose value is an envelope. */
function envelopeParts(payload: JsonSchema): { type: string; payload: string } | null {
  const parts = payload.allOf as JsonSchema[] | undefined;
  const own = parts?.[1]?.properties as Record<string, JsonSchema> | undefined;
  if (!own?.payload?.$ref) return null;
  return { type: str(own.type?.const ?? ''), payload: refName(str(own.payload.$ref)) };
}

function fieldsTable(schema: JsonSchema): string {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties).map(
    ([name, field]) =>
      `<tr><td><code>${esc(name)}</code></td><td>${typeOf(field)}</td><td>${required.has(name) ? 'yes' : 'no'}</td><td>${[
        constraints(field),
        field.description ? text(str(field.description)) : '',
      ]
        .filter(Boolean)
        .join(' — ')}</td></tr>`,
  );
  const closed = schema.additionalProperties === false ? '<p class="meta">No other fields.</p>' : '';
  return `<table><thead><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr></thead><tbody>${rows.join('')}</tbody></table>${closed}`;
}

/** A field's type in words: `string (uuid)`, `integer | null`, a link to a nested schema, `array of string`. */
function typeOf(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') {
    const name = refName(schema.$ref);
    return `<a href="#schema-${attr(name)}">${esc(name)}</a>`;
  }
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).map(typeOf).join(' | ');
  if ('const' in schema) return `<code>${esc(JSON.stringify(schema.const))}</code>`;
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type ? [str(schema.type)] : [];
  if (types.length === 0) return 'any JSON';
  const described = types.map((t) => {
    if (t === 'string' && schema.format) return `string (${esc(str(schema.format))})`;
    if (t === 'array' && schema.items) return `array of ${typeOf(schema.items as JsonSchema)}`;
    return esc(t);
  });
  const values = Array.isArray(schema.enum) ? (schema.enum as unknown[]).filter((v) => v !== null) : null;
  const oneOf = values ? `: one of ${values.map((v) => `<code>${esc(str(v))}</code>`).join(', ')}` : '';
  return described.join(' | ') + oneOf;
}

function typeWithConstraints(schema: JsonSchema): string {
  const limits = constraints(schema);
  return limits ? `${typeOf(schema)}, ${limits}` : typeOf(schema);
}

function constraints(schema: JsonSchema): string {
  const out: string[] = [];
  if (schema.minimum !== undefined) out.push(`≥ ${esc(str(schema.minimum))}`);
  if (schema.maximum !== undefined) out.push(`≤ ${esc(str(schema.maximum))}`);
  if (schema.minLength !== undefined) out.push(`at least ${esc(str(schema.minLength))} characters`);
  if (schema.maxLength !== undefined) out.push(`at most ${esc(str(schema.maxLength))} characters`);
  if (schema.maxItems !== undefined) out.push(`at most ${esc(str(schema.maxItems))} items`);
  if (schema.pattern !== undefined) out.push(`matches <code>${esc(str(schema.pattern))}</code>`);
  if (schema.items && typeof schema.items === 'object') {
    const item = constraints(schema.items as JsonSchema);
    if (item) out.push(`each ${item}`);
  }
  return out.join(', ');
}

function resolve(schema: JsonSchema, schemas: Record<string, JsonSchema>): JsonSchema {
  return typeof schema.$ref === 'string' ? (schemas[refName(schema.$ref)] ?? {}) : schema;
}

function operationsOf(doc: AsyncApiDocument, channel: string, action: string): Array<{ app: string; summary: string }> {
  return Object.values(doc.operations)
    .filter((o) => o.action === action && o.channel.$ref === `#/channels/${channel}`)
    .map((o) => ({ app: o.tags[0]?.name ?? '', summary: o.summary }));
}

/** A schema keyword's value as text: strings as they are, anything else as JSON. */
function str(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

function paragraphs(prose: string): string {
  return prose
    .split(/\n\s*\n/)
    .map((p) => `<p>${text(p)}</p>`)
    .join('\n');
}

/** Prose of the document: escaped, with its `code` spans as code. */
function text(prose: string): string {
  return esc(prose).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML: every character that could open markup or end an attribute is an entity. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** An id or fragment: the document's names, which are [A-Za-z0-9.-_]; anything else is escaped all the same. */
const attr = esc;

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1b1f24; }
h2 { margin-top: 2em; border-bottom: 1px solid #d0d7de; }
section { margin: 1.5em 0; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #d0d7de; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code, pre { font: 13px ui-monospace, monospace; }
h2 code { font-size: inherit; }
pre { background: #f6f8fa; padding: .75em; overflow-x: auto; }
.meta, small { color: #57606a; }
.apps { display: flex; gap: 3em; }
dt { font-weight: 600; margin-top: .5em; }
`;
