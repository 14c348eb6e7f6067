import { DurableObject } from "cloudflare:workers";

/** How long a key is remembered, from its first claim (the IETF draft leaves it to the server; 24 h as is common). */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long a claim counts as in flight. A request that died between claim and answer (its
 * isolate crashed, it was cancelled) can neither complete nor release its claim; past this, the
 * next retry takes the key over instead of being told to wait for 24 hours.
 */
export const CLAIM_LEASE_MS = 60 * 1000;

/** The answer to replay: what a retry receives instead of running again. */
export interface StoredResponse {
  status: number;
  contentType: string;
  body: string;
}

/**
 * What a claim finds. `new` hands out a token that only the claimant's `complete` or `release`
 * accepts, so a claim that lapsed and was taken over cannot overwrite its successor's outcome.
 */
export type Claim =
  | { state: "new"; token: string }
  | { state: "in_flight" }
  | { state: "mismatch" }
  | { state: "done"; response: StoredResponse }
  | { state: "erased" };

interface Entry {
  /** SHA-256 of the first request's body. */
  digest: string;
  createdAt: number;
  claimedAt: number;
  token: string;
  response?: StoredResponse;
  /** The answer named a history since erased: it is forgotten, and a retry is told so instead of running again. */
  erased?: true;
}

const ENTRY_KEY = "entry";

/**
 * One Idempotency-Key of one operation in one organization (named by a keyed hash of the three,
 * see address.ts). Every method changes the storage synchronously, before any await, so
 * concurrent claims of one key are totally ordered: exactly one of them is `new`. An alarm
 * deletes the storage once the key has expired.
 */
export class IdempotencyRecord extends DurableObject<Env> {
  async claim(digest: string): Promise<Claim> {
    const now = Date.now();
    const stored = this.ctx.storage.kv.get<Entry>(ENTRY_KEY);
    // An expired entry whose alarm has not run yet is no longer there for the caller.
    const entry = stored && now - stored.createdAt < KEY_TTL_MS ? stored : undefined;
    if (entry && entry.digest !== digest) return { state: "mismatch" };
    if (entry?.response) return { state: "done", response: entry.response };
    if (entry?.erased) return { state: "erased" };
    if (entry && now - entry.claimedAt < CLAIM_LEASE_MS) return { state: "in_flight" };
    const token = crypto.randomUUID();
    this.ctx.storage.kv.put<Entry>(ENTRY_KEY, { digest, createdAt: entry?.createdAt ?? now, claimedAt: now, token });
    if (!entry) await this.ctx.storage.setAlarm(now + KEY_TTL_MS);
    return { state: "new", token };
  }

  /** Keeps the answer of the claim `token`, for its retries. */
  complete(token: string, response: StoredResponse): void {
    const entry = this.#claimed(token);
    if (entry) this.ctx.storage.kv.put<Entry>(ENTRY_KEY, { ...entry, response });
  }

  /** Forgets the claim `token`, so that a retry runs the request again. */
  release(token: string): void {
    if (this.#claimed(token)) this.ctx.storage.kv.delete(ENTRY_KEY);
  }

  /** Forgets the kept answer (it names a history that was erased); the key stays taken until it expires. */
  forget(): void {
    const entry = this.ctx.storage.kv.get<Entry>(ENTRY_KEY);
    if (!entry?.response) return;
    const { response: _, ...kept } = entry;
    this.ctx.storage.kv.put<Entry>(ENTRY_KEY, { ...kept, erased: true });
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** The entry, if it is still claimed (unanswered) by `token`. */
  #claimed(token: string): Entry | undefined {
    const entry = this.ctx.storage.kv.get<Entry>(ENTRY_KEY);
    return entry && entry.token === token && !entry.response ? entry : undefined;
  }
}
