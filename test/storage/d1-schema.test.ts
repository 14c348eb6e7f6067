import { env } from "cloudflare:workers";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { expect, it } from "vitest";
import { consentEvents, webhookDeliveries, webhookEndpoints } from "../../src/storage/d1-schema";

it.each([consentEvents, webhookEndpoints, webhookDeliveries])("the SQL migrations create exactly the table, key, unique key and indexes the drizzle schema declares (%#)", async (table) => {
  const config = getTableConfig(table);
  const { results: columns } = await env.DB.prepare(`PRAGMA table_info(${config.name})`).all<{ name: string; notnull: number; pk: number }>();
  expect(columns.map((c) => [c.name, c.notnull === 1 || c.pk > 0])).toEqual(config.columns.map((c) => [c.name, c.notNull]));
  expect(columns.filter((c) => c.pk > 0).map((c) => c.name)).toEqual(config.columns.filter((c) => c.primary).map((c) => c.name));

  const { results: indexes } = await env.DB.prepare(`PRAGMA index_list(${config.name})`).all<{ name: string; origin: string }>();
  expect(indexes.filter((i) => i.origin === "c").map((i) => i.name).sort()).toEqual(config.indexes.map((i) => i.config.name).sort());
  const uniques = await Promise.all(
    indexes
      .filter((i) => i.origin === "u")
      .map(async (i) => (await env.DB.prepare(`PRAGMA index_info(${i.name})`).all<{ name: string }>()).results.map((c) => c.name)),
  );
  expect(uniques).toEqual(config.uniqueConstraints.map((u) => u.columns.map((c) => c.name)));
});
