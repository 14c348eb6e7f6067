/**
 * What the consent domain refuses, as domain types: the HTTP layer maps each to a response in one
 * place (src/http/api-error.ts), so no domain module knows about status codes or pages.
 */

/** A request field the domain refuses after the schema accepted it (e.g. a redirect to a foreign origin). */
export class FieldRefused extends Error {
  constructor(
    readonly field: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why a link was refused: altered or malformed, signed by a key no longer configured, or too old. */
export type LinkProblem = "invalid" | "unknown_key" | "expired";

export class LinkRefused extends Error {
  constructor(
    readonly problem: LinkProblem,
    /** The organization, when the link's signature proved it (an expired link): its page can be branded. */
    readonly organizationId?: string,
  ) {
    super(`link refused: ${problem}`);
  }
}

/** A double opt-in request the person opted out of after it was sent: it can no longer be confirmed. */
export class ConsentWithdrawn extends Error {
  constructor(
    readonly topic: string,
    readonly organizationId: string,
  ) {
    super(`consent to ${topic} was withdrawn after the link was sent`);
  }
}

/** An event the identifier's history does not hold (no such identifier, or no such seq). */
export class EventNotFound extends Error {
  constructor(readonly seq: number) {
    super(`the history holds no event ${seq}`);
  }
}

/**
 * An import whose ledgers did not all take their events: the others did (each identifier's are all
 * or none), so sending the same request again is safe: what was stored is then a duplicate.
 */
export class ImportInterrupted extends Error {
  constructor(
    readonly failed: number,
    readonly identifiers: number,
    options: ErrorOptions,
  ) {
    super(`${failed} of ${identifiers} identifiers' ledgers failed to take their imported events`, options);
  }
}

/** An identifier the organization has no history of: there is nothing for a preference page to show. */
export class NoHistory extends Error {
  constructor() {
    super("the identifier has no history in the organization");
  }
}
