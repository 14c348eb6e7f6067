import { z } from "zod";

/** Scopes a principal can hold; a credential that names none gets both. */
export const SCOPES = ["consent:read", "consent:write"] as const;
export type Scope = (typeof SCOPES)[number];

const apiClientSchema = z.object({
  id: z.string().min(1),
  secret_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters (the SHA-256 of the secret)")
    .transform((hex) => hex.toLowerCase()),
  organization_id: z.string().min(1),
  scopes: z.array(z.enum(SCOPES)).optional(),
});
export type ApiClient = z.infer<typeof apiClientSchema>;

const jsonSetting = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

const settingsSchema = z.object({
  API_CLIENTS: jsonSetting(
    z.array(apiClientSchema).refine((clients) => new Set(clients.map((c) => c.id)).size === clients.length, "has duplicate client ids"),
  )
    .optional()
    .transform((v) => v ?? []),
  JWT_SECRET: optionalText,
  JWT_JWKS_URL: optionalText.pipe(z.url().optional()),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_ORGANIZATION_CLAIM: optionalText.transform((v) => v ?? "organization_id"),
});

export type Settings = z.output<typeof settingsSchema>;

/** A setting the operator got wrong: reported as a 500 naming the setting, never the value. */
export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting} ${message}`);
  }
}

const parsed = new WeakMap<object, Settings>();

/** Parses the worker's bindings once per env object (i.e. once per isolate). */
export function settings(env: Env): Settings {
  let result = parsed.get(env);
  if (!result) {
    const outcome = settingsSchema.safeParse(env);
    if (!outcome.success) {
      const issue = outcome.error.issues[0]!;
      const [setting, ...rest] = issue.path.map(String);
      throw new ConfigError(setting ?? "configuration", `${rest.length ? `[${rest.join(".")}] ` : ""}${issue.message}`);
    }
    result = outcome.data;
    parsed.set(env, result);
  }
  return result;
}
