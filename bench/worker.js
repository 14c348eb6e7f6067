// The benchmark's floor: the bare Workers primitives the gateway is built from, with no framework,
// validation or auth. `npm run bench` runs it under its own `wrangler dev` next to the gateway.
import { DurableObject } from "cloudflare:workers";

export class Primitive extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  /** One SQLite insert. */
  insert(body) {
    this.ctx.storage.sql.exec("INSERT INTO rows (body) VALUES (?)", body);
  }

  /** The newest 25 rows. */
  read() {
    return this.ctx.storage.sql.exec("SELECT id, body FROM rows ORDER BY id DESC LIMIT 25").toArray();
  }

  /** `count` rows in one transaction (not timed). */
  seed(count) {
    this.ctx.storage.transactionSync(() => {
      for (let i = 0; i < count; i++) this.insert(JSON.stringify({ n: i }));
    });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, route, name] = url.pathname.split("/");
    const object = () => env.PRIMITIVE.get(env.PRIMITIVE.idFromName(decodeURIComponent(name ?? "")));
    if (route === "noop") return new Response(null, { status: 204 });
    if (route === "insert" && request.method === "POST") {
      await object().insert(await request.text());
      return new Response(null, { status: 204 });
    }
    if (route === "read") return Response.json(await object().read());
    if (route === "seed" && request.method === "POST") {
      await object().seed(Number(url.searchParams.get("count") ?? 1000));
      return new Response(null, { status: 204 });
    }
    return new Response(null, { status: 404 });
  },
};
