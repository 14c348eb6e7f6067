import { FieldRefused } from "../consent/errors";

/**
 * Where the gateway may POST webhooks: https to a public name or address. The rules read the URL
 * as written (after the WHATWG parser's normalisation, which turns 0x7f.1 or 2130706433 into
 * 127.0.0.1); the name is not resolved, so a public name that points at a private address is not
 * caught here (README "Webhooks").
 */

const LOCAL_NAME = /(^|\.)(localhost|local|internal|home\.arpa)$/;

/** IPv4 ranges that are not public: [first octets, prefix length]. */
const PRIVATE_V4: [number[], number][] = [
  [[0], 8], // "this network"
  [[10], 8],
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local (and cloud metadata)
  [[172, 16], 12],
  [[192, 0, 0], 24],
  [[192, 168], 16],
  [[198, 18], 15], // benchmarking
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

const v4Number = (octets: number[]) => octets.reduce((n, o) => n * 256 + o, 0);

function privateV4(address: string): boolean {
  const octets = address.split(".").map(Number);
  const n = v4Number(octets);
  return PRIVATE_V4.some(([start, bits]) => {
    const base = v4Number([...start, 0, 0, 0, 0].slice(0, 4));
    const size = 2 ** (32 - bits);
    return n >= base && n < base + size;
  });
}

/** The 8 groups of an IPv6 literal as the URL parser writes it (compressed, lower-case, no dotted tail). */
function v6Groups(address: string): number[] {
  const [head = "", tail] = address.split("::");
  const part = (text: string) => (text ? text.split(":").map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

function privateV6(address: string): boolean {
  const g = v6Groups(address);
  const first = g[0]!;
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  if ((first & 0xffc0) === 0xfe80) return true; // link-local
  if ((first & 0xfe00) === 0xfc00) return true; // unique local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judged by the IPv4 address inside.
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = first === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (mapped || nat64) return privateV4([g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join("."));
  return false;
}

const refuse = (code: string, message: string) => new FieldRefused("url", code, message);

/** The URL as it will be called, or a FieldRefused naming why not. */
export function checkWebhookUrl(text: string, allowLocalhost: boolean): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse("invalid_url", "must be an absolute URL");
  }
  const host = url.hostname.replace(/\.$/, "");
  const isLocalDevelopment = allowLocalhost && (host === "127.0.0.1" || host === "localhost") && (url.protocol === "http:" || url.protocol === "https:");
  if (url.username || url.password) throw refuse("credentials_in_url", "must not carry credentials: receivers authenticate the gateway by its signature");
  if (isLocalDevelopment) return url.href;
  if (url.protocol !== "https:") {
    throw refuse("not_https", allowLocalhost ? "must be https (or http://127.0.0.1:* or http://localhost:*)" : "must be https");
  }
  if (host.startsWith("[")) {
    if (privateV6(host.slice(1, -1))) throw refuse("private_address", "must not be a private, loopback or link-local address");
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    if (privateV4(host)) throw refuse("private_address", "must not be a private, loopback or link-local address");
  } else if (!host.includes(".") || LOCAL_NAME.test(host)) {
    throw refuse("local_name", "must not name a local host (localhost, *.localhost, *.local, *.internal, a name without a dot)");
  }
  return url.href;
}
