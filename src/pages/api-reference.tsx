/** Just what the reference page reads of an OpenAPI 3.1 document. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  example?: unknown;
  [key: string]: unknown;
}
interface MediaType {
  schema?: Schema;
  example?: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: {
    schemas?: Record<string, Schema>;
    parameters?: Record<string, Parameter>;
    securitySchemes?: Record<string, { scheme?: string; description?: string }>;
  };
}

const refName = (schema?: Schema) => schema?.$ref?.split("/").pop();

function typeOf(schema?: Schema): string {
  if (!schema) return "";
  return refName(schema) ?? (Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any"));
}

/** An operation's parameters, those shared through components (`$ref`) resolved. */
const parametersOf = (document: OpenApiDocument, op: Operation): Parameter[] =>
  (op.parameters ?? []).flatMap((p) => ("$ref" in p ? (document.components?.parameters?.[refName(p as Schema)!] ?? []) : [p]));

function exampleOf(document: OpenApiDocument, media?: MediaType): unknown {
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const name = refName(media.schema);
  return (name ? document.components?.schemas?.[name] : media.schema)?.example;
}

const styles = `
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #fafafa; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; overflow-wrap: anywhere; }
nav ul { columns: 2 16rem; padding-left: 1.25rem; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll:focus-visible, pre:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
td code, p code, li code { overflow-wrap: anywhere; }
section.op { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .25rem; font-family: ui-monospace, Menlo, Consolas, monospace; }
.method { display: inline-block; min-width: 3.5rem; color: #fff; background: #0b5cad; border-radius: 4px; padding: 0 .4rem; margin-right: .5rem; text-align: center; }
.method.post { background: #0a7d55; } .method.head { background: #5a5a5a; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .95rem; }
th, td { text-align: left; border-bottom: 1px solid #eee; padding: .3rem .5rem; vertical-align: top; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9rem; }
pre { background: #f3f3f3; padding: .75rem; border-radius: 6px; overflow-x: auto; overflow-wrap: normal; }
.muted { color: #555; }
`;

/** Text with `backticks` rendered as code, as the descriptions in the document are written. */
function Prose({ text }: { text?: string }) {
  if (!text) return null;
  return <>{text.split("`").map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part))}</>;
}

/** A wide table or code block scrolls inside its own box, which the keyboard can reach (WCAG 2.1.1). */
function Scroll({ label, children }: { label: string; children: unknown }) {
  return (
    <div class="scroll" tabindex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

function Operation({ document, method, path, op }: { document: OpenApiDocument; method: string; path: string; op: Operation }) {
  const body = op.requestBody?.content?.["application/json"];
  const bodyExample = exampleOf(document, body);
  const auth = op.security?.length ? op.security.flatMap((s) => Object.keys(s)).join(" or ") : "public";
  return (
    <section class="op" id={op.operationId}>
      <h2>
        <span class={`method ${method}`}>{method.toUpperCase()}</span>
        {path}
      </h2>
      <p>
        <strong>{op.operationId}</strong>: <Prose text={op.summary} /> <span class="muted">(auth: {auth})</span>
      </p>
      {op.description ? (
        <p class="muted">
          <Prose text={op.description} />
        </p>
      ) : null}
      {op.parameters?.length ? (
        <Scroll label={`${op.operationId} parameters`}>
        <table>
          <thead>
            <tr><th>Parameter</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr>
          </thead>
          <tbody>
            {parametersOf(document, op).map((p) => (
              <tr>
                <td><code>{p.name}</code></td>
                <td>{p.in}</td>
                <td>{typeOf(p.schema)}</td>
                <td>{p.required ? "yes" : "no"}</td>
                <td>
                  <Prose text={p.description ?? (p.schema?.description as string | undefined)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </Scroll>
      ) : null}
      {body ? (
        <>
          <p>
            Request body (<code>application/json</code>): <a href={`#schema-${typeOf(body.schema)}`}>{typeOf(body.schema)}</a>
          </p>
          {bodyExample !== undefined ? (
            <pre tabindex={0} aria-label={`${op.operationId} example body`}>
              {JSON.stringify(bodyExample, null, 2)}
            </pre>
          ) : null}
        </>
      ) : null}
      <Scroll label={`${op.operationId} responses`}>
      <table>
        <thead>
          <tr><th>Status</th><th>Description</th><th>Content</th></tr>
        </thead>
        <tbody>
          {Object.entries(op.responses ?? {}).map(([status, response]) => (
            <tr>
              <td>{status}</td>
              <td>
                <Prose text={response.description} />
              </td>
              <td>
                {Object.entries(response.content ?? {}).map(([type, media]) => (
                  <div><code>{type}</code> {typeOf(media.schema)}</div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </Scroll>
    </section>
  );
}

/** A self-contained, server-rendered reference of the OpenAPI document: no scripts, no CDN. */
export function ApiReference({ document, nonce }: { document: OpenApiDocument; nonce: string }) {
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${document.info.title} API reference`}</title>
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: styles }} />
      </head>
      <body>
        <main>
          <h1>
            {document.info.title} <span class="muted">{document.info.version}</span>
          </h1>
          <p>
            <Prose text={document.info.description} />
          </p>
          <p>
            Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
          </p>
          <h2>Authentication</h2>
          <ul>
            {Object.entries(document.components?.securitySchemes ?? {}).map(([name, scheme]) => (
              <li>
                <code>{name}</code> (HTTP {scheme.scheme}): <Prose text={scheme.description} />
              </li>
            ))}
          </ul>
          <nav aria-label="Contents">
            <h2>Contents</h2>
            <ul>
              {operations.map(({ path, method, op }) => (
                <li>
                  <a href={`#${op.operationId}`}>
                    <code>{method.toUpperCase()} {path}</code>
                  </a>
                </li>
              ))}
              <li>
                <a href="#schemas">Schemas</a>
              </li>
            </ul>
          </nav>
          {operations.map(({ path, method, op }) => (
            <Operation document={document} method={method} path={path} op={op} />
          ))}
          <h2 id="schemas">Schemas</h2>
          {Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => (
            <section class="op" id={`schema-${name}`}>
              <h2>{name}</h2>
              <pre tabindex={0} aria-label={`${name} schema`}>
                {JSON.stringify(schema, null, 2)}
              </pre>
            </section>
          ))}
        </main>
      </body>
    </html>
  );
}
