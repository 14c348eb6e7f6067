import type { Scope } from "../config";

/** Who is calling: always exactly one organization, taken from the credentials. */
export interface Principal {
  organizationId: string;
  scopes: ReadonlySet<Scope>;
  /** The API client id or the JWT subject, for logs. */
  subject: string;
  scheme: "basic" | "bearer";
}
