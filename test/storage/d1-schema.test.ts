import { env } from "cloudflare:workers";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { expect, it } from "vitest";
import { consentEvents } from "../../src/storage/d1-schema";

it("the SQL migrations create exactly the table and indexes the drizzle schema declares", async () => {
  const config = getTableConfig(consentEvents);
  const { results: columns } = await env.DB.prepare(`PRAGMA table_info(${config.name})`).all<{ name: string; notnull: number; pk: number }>();
  expect(columns.map((c) => [c.name, c.notnull === 1 || c.pk > 0])).toEqual(config.columns.map((c) => [c.name, c.notNull]));
  expect(columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name)).toEqual(
    config.primaryKeys[0]!.columns.map((c) => c.name),
  );
  const { results: indexes } = await env.DB.prepare(`PRAGMA index_list(${config.name})`).all<{ name: string; origin: string }>();
  expect(indexes.filter((i) => i.origin === "c").map((i) => i.name).sort()).toEqual(config.indexes.map((i) => i.config.name).sort());
});
