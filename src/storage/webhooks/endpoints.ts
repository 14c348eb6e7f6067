import { and, desc, eq, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { webhookDeliveries, webhookEndpoints } from "../d1-schema";
import { orm, type D1Reader } from "../d1-reader";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** An endpoint's filters as stored: NULL is "all". */
export const filterText = (values: readonly string[] | undefined) => (values === undefined ? null : JSON.stringify(values));
export const filterValues = (text: string | null): string[] | undefined => (text === null ? undefined : (JSON.parse(text) as string[]));

export async function insertEndpoint(db: D1Database, row: EndpointRow): Promise<void> {
  await drizzle(db).insert(webhookEndpoints).values(row);
}

/** The organization's endpoints, oldest first. */
export function organizationEndpoints(db: D1Reader, organizationId: string): Promise<EndpointRow[]> {
  const t = webhookEndpoints;
  return orm(db).select().from(t).where(eq(t.organizationId, organizationId)).orderBy(t.createdAt, t.id);
}

export async function findEndpoint(db: D1Reader, organizationId: string, id: string): Promise<EndpointRow | undefined> {
  const t = webhookEndpoints;
  const [row] = await orm(db).select().from(t).where(and(eq(t.organizationId, organizationId), eq(t.id, id)));
  return row;
}

/** Removes an endpoint and its delivery log in one transaction; answers whether it was there. */
export async function deleteEndpoint(db: D1Database, organizationId: string, id: string): Promise<boolean> {
  const orm = drizzle(db);
  const [removed] = await orm.batch([
    orm.delete(webhookEndpoints).where(and(eq(webhookEndpoints.organizationId, organizationId), eq(webhookEndpoints.id, id))).returning({ id: webhookEndpoints.id }),
    orm.delete(webhookDeliveries).where(and(eq(webhookDeliveries.organizationId, organizationId), eq(webhookDeliveries.endpointId, id))),
  ]);
  return removed.length > 0;
}

/** Replaces the endpoint's secret, keeping the one it had as the previous until `previousExpiresAt`; answers the row, if it is there. */
export async function replaceSecret(
  db: D1Database,
  organizationId: string,
  id: string,
  change: { secret: string; previousSecret: string; previousExpiresAt: string; expected: string },
): Promise<EndpointRow | undefined> {
  const t = webhookEndpoints;
  // Only if the secret is still the one read: of two concurrent rotations, one wins, and the other's caller is not handed a secret that never signs.
  const [row] = await drizzle(db)
    .update(t)
    .set({ secret: change.secret, previousSecret: change.previousSecret, previousExpiresAt: change.previousExpiresAt })
    .where(and(eq(t.organizationId, organizationId), eq(t.id, id), eq(t.secret, change.expected)))
    .returning();
  return row;
}

/** The endpoints of these organizations, for matching a batch of events (one read per batch). */
export function endpointsOf(db: D1Database, organizationIds: string[]): Promise<Pick<EndpointRow, "id" | "organizationId" | "topics" | "types">[]> {
  const t = webhookEndpoints;
  return drizzle(db).select({ id: t.id, organizationId: t.organizationId, topics: t.topics, types: t.types }).from(t).where(inArray(t.organizationId, organizationIds));
}

/** The endpoint's latest delivery attempts, newest first. */
export function recentDeliveries(db: D1Reader, organizationId: string, endpointId: string, limit: number): Promise<DeliveryRow[]> {
  const t = webhookDeliveries;
  return orm(db)
    .select()
    .from(t)
    .where(and(eq(t.organizationId, organizationId), eq(t.endpointId, endpointId)))
    .orderBy(desc(t.id))
    .limit(limit);
}
