/** Why a request was not let in: auth's own failure types, mapped to HTTP once (src/http/api-error.ts), each surface answering in its own format. */

/** No, unknown or wrong credentials: safe to show to the caller. `bearerError` is RFC 6750's error code. */
export class Unauthenticated extends Error {
  constructor(
    message: string,
    readonly bearerError?: "invalid_token",
  ) {
    super(message);
  }
}

/** The credentials are fine but lack the scope the operation needs. */
export class MissingScope extends Error {
  constructor(readonly scope: string) {
    super(`This operation needs the "${scope}" scope.`);
  }
}

/** The identity provider's key set could not be fetched: the token may be fine, so try again later. */
export class KeysUnavailable extends Error {}
