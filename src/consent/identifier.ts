/**
 * The one spelling of an identifier under which its history is kept, so that
 * `Foo@Example.com` and `foo@example.com`, or `+49 (123) 45-67` and `+491234567`, are one person.
 * Input is already trimmed by the schema.
 */
export function normalizeIdentifier(identifier: string): string {
  const trimmed = identifier.trim();
  if (trimmed.startsWith("+")) return trimmed.replace(/[\s\-()[\]]/g, "");
  if (trimmed.includes("@")) return trimmed.toLowerCase();
  return trimmed;
}
