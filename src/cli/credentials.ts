/**
 * Which credentials a command uses: -t/--token or --basic, else $CONSENT_GATEWAY_TOKEN, else the
 * profile's. The SDK's sendOperation makes the Authorization header of them (and leaves it off
 * public operations and where -H gave one).
 */
import { basicAuth } from "../sdk/request";
import { parseBasic } from "./options";
import type { Profile } from "./profiles";

export interface Credentials {
  token?: string;
  basic?: string;
}

/** The credential -t or --basic gives (the token first), or undefined when neither flag was given. */
export function credentialFlags(values: Credentials): Credentials | undefined {
  if (values.token !== undefined) return { token: values.token };
  if (values.basic !== undefined) {
    parseBasic(values.basic); // a malformed one is refused now rather than sent
    return { basic: values.basic };
  }
  return undefined;
}

/** What to send as Authorization: the flags' credential, else $CONSENT_GATEWAY_TOKEN, else the profile's. */
export function chooseAuthorization(flags: Credentials | undefined, env: NodeJS.ProcessEnv, profile: Profile): string | undefined {
  const { token, basic } = flags ?? (env.CONSENT_GATEWAY_TOKEN ? { token: env.CONSENT_GATEWAY_TOKEN } : profile);
  if (token !== undefined) return token;
  if (basic !== undefined) return basicAuth(...parseBasic(basic));
  return undefined;
}
