/** `consent-gateway profile add|list|use|remove`: keeps the named servers and credentials calls can use. */
import { credentialFlags } from "./credentials";
import { USAGE } from "./help";
import { BIN, type Io } from "./io";
import { parse, parseHeaders, PROFILE_OPTIONS } from "./options";
import { profilesFile, readProfiles, writeProfiles, type Profile } from "./profiles";
import { UsageError } from "./usage";

export async function profileCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, PROFILE_OPTIONS);
  const [action, name, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(`${USAGE}\n\nProfiles are kept in ${profilesFile(io.env)} (mode 0600).\n`);
    return values.help ? 0 : 2;
  }
  if (rest.length) throw new UsageError(`profile ${action}: unexpected ${rest.join(" ")}`);
  const store = readProfiles(io.env);
  const needName = () => {
    if (!name) throw new UsageError(`profile ${action} needs a name`);
    return name;
  };
  const needProfile = () => {
    const profileName = needName();
    if (!store.profiles[profileName]) throw new UsageError(`no profile named "${profileName}"`);
    return profileName;
  };
  switch (action) {
    case "add": {
      const profileName = needName();
      if (!values.server) throw new UsageError("profile add needs -s <url>");
      if (values.token && values.basic) throw new UsageError("profile add takes -t or --basic, not both");
      const profile: Profile = { server: values.server, ...credentialFlags(values, io, "saving") };
      const headers = parseHeaders(values.header);
      if (Object.keys(headers).length) profile.headers = headers;
      store.profiles[profileName] = profile;
      store.current ??= profileName;
      const file = writeProfiles(store, io.env);
      io.stdout.write(`Saved profile "${profileName}" in ${file}${store.current === profileName ? " (in use)" : ""}\n`);
      return 0;
    }
    case "list": {
      if (values.json) {
        const masked = Object.fromEntries(
          Object.entries(store.profiles).map(([n, p]) => [n, { server: p.server, auth: p.token ? "bearer" : p.basic ? "basic" : "none", headers: Object.keys(p.headers ?? {}), current: n === store.current }]),
        );
        io.stdout.write(`${JSON.stringify(masked)}\n`);
        return 0;
      }
      const names = Object.keys(store.profiles);
      if (!names.length) io.stdout.write(`No profiles yet: ${BIN} profile add <name> -s <url> -t <token>\n`);
      for (const n of names) {
        const p = store.profiles[n]!;
        const auth = p.token ? "bearer token" : p.basic ? `basic ${p.basic.split(":")[0]}:********` : "no credentials";
        io.stdout.write(`${n === store.current ? "*" : " "} ${n}  ${p.server ?? ""}  (${auth})\n`);
      }
      return 0;
    }
    case "use": {
      const profileName = needProfile();
      store.current = profileName;
      writeProfiles(store, io.env);
      io.stdout.write(`Using profile "${profileName}"\n`);
      return 0;
    }
    case "remove": {
      const profileName = needProfile();
      delete store.profiles[profileName];
      if (store.current === profileName) delete store.current;
      writeProfiles(store, io.env);
      io.stdout.write(`Removed profile "${profileName}"\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown profile action "${action}" (add, list, use, remove)`);
  }
}
