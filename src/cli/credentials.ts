/**
 * Which credentials a command uses: -t/--token or --basic, else $CONSENT_GATEWAY_TOKEN, else the
 * profile's. The SDK's sendOperation makes the Authorization header of them (and leaves it off
 * public operations and where -H gave one).
 */
import { basicAuth } from "../sdk/request";
import { warn, type Io } from "./io";
import { parseBasic } from "./options";
import type { Profile } from "./profiles";

export interface Credentials {
  token?: string;
  basic?: string;
}

/**
 * The credential -t or --basic gives (the token first), or undefined when neither flag was given.
 * An empty value, as `-t "$TOKEN"` gives with TOKEN unset, is left out with a warning: otherwise
 * the 401 that follows, or a profile saved without credentials, would not say why.
 */
export function credentialFlags(values: Credentials, io: Io, doing: "sending" | "saving"): Credentials | undefined {
  if (values.token === undefined && values.basic === undefined) return undefined;
  if (values.token === "") warn(io, `-t/--token is empty; ${doing} no bearer token`);
  if (values.basic === "") warn(io, `--basic is empty; ${doing} no API client credentials`);
  if (values.token) return { token: values.token };
  if (values.basic) {
    parseBasic(values.basic); // a malformed one is refused now rather than saved in a profile
    return { basic: values.basic };
  }
  return {};
}

/** What to send as Authorization: the flags' credential, else $CONSENT_GATEWAY_TOKEN, else the profile's. */
export function chooseAuthorization(flags: Credentials | undefined, env: NodeJS.ProcessEnv, profile: Profile): string | undefined {
  const { token, basic } = flags ?? (env.CONSENT_GATEWAY_TOKEN ? { token: env.CONSENT_GATEWAY_TOKEN } : profile);
  if (token) return token;
  if (basic) return basicAuth(...parseBasic(basic));
  return undefined;
}
