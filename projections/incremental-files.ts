/**
 * The password file body and the ACL file, rendered incrementally (issue 14). The users, in file
 * order, are cut into chunks of about `chunkSize`; a chunk keeps its rendered password lines and
 * ACL blocks as two texts and is rendered again, whole, only when the event tracker
 * (core/evolve/touches.ts) says something one of its users depends on was touched since — the
 * user, its direct rules, or one of its roles — or a user joined or left it. Per-user texts are
 * not kept: at 100,000 users they cost 49 MiB beside the chunks' copies (issue 14: memory), and
 * rendering a chunk's 256 users again takes well under a millisecond. The output is byte for byte
 * what renderPasswordFile and renderAclFileFromState produce for the same state (property-tested):
 * the lists come from the same functions (core/acl-model.ts), and a chunk is only ever reused for
 * a state in which nothing it was built from has changed.
 *
 * Each chunk's two texts are blocks with the checker's verdict (`ok`), set by checkBlocks
 * (./checked-blocks.ts): a chunk rendered again gets new block objects, so a verdict can never
 * outlive the text it was given for, except when the new text is identical (same text, same
 * verdict).
 *
 * Pure: no clock, no I/O; the cache is memory owned by the caller's renderer object.
 */
import { anonymousAclList, compareText, patternAclList, reduceList, serviceAccountSources, userAclList, type AclEntry } from '../core/acl-model.ts';
import type { AclRule } from '../core/acl-types.ts';
import { buildRuleIndexStep, rulesByPrincipal } from '../core/evolve/rule-index.ts';
import { touchesOf, type Touches } from '../core/evolve/touches.ts';
import type { BrokerConfig } from '../core/state.ts';
import { aclHeader, aclLines } from './acl-file.ts';
import type { ServiceAccountEntry } from './password-file.ts';

/**
 * A piece of a rendered file and whether the checker passed exactly this text. `keys`: the
 * usernames whose password lines it holds (the password file must name each one once).
 */
export type Block = { readonly text: string; ok: boolean; readonly keys?: readonly string[] };

export type IncrementalRender = Readonly<{
  /** renderPasswordFile's output. */
  password: string;
  /** The password body is these texts joined with ''. */
  passwordBlocks: readonly Block[];
  /** renderAclFileFromState's output. */
  acl: string;
  /** The file is these texts joined with '\n' (a blank line between blocks). */
  aclBlocks: readonly Block[];
}>;

type Lines = { at: number; block: Block | null };

/** Users in file order, cut into runs; `names` sorted, and every chunk's names before the next's. */
type Chunk = { names: string[]; pw: Block | null; acl: Block | null; dirty: boolean };

/** Users per chunk by default: joining 100,000 per-user texts per apply cost more than everything else (issue 14). */
export const CHUNK_SIZE = 256;

/** Keeps `old` (and its verdict) when the text did not change. */
const same = (old: Block | null | undefined, text: string | null, keys?: readonly string[]): Block | null => {
  if (text === null || text === '') return null;
  if (old && old.text === text) return old;
  return keys === undefined ? { text, ok: false } : { text, ok: false, keys };
};

/** The index in sorted `xs` where `x` goes. */
const position = (xs: readonly string[], x: string): number => {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareText(xs[mid] as string, x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

export const createIncrementalRenderer = (opts: Readonly<{ serviceAccount: ServiceAccountEntry; chunkSize?: number }>) => {
  const sa = opts.serviceAccount;
  const size = Math.max(1, opts.chunkSize ?? CHUNK_SIZE);
  const saLine = `${sa.username}:${sa.passwordHash}\n`;

  let tracker: Touches | null = null;
  /** Seq of the state last rendered, and the journal position read up to. */
  let renderedAt = -1;
  let journalAt = 0;
  /** null: not cut yet for this tracker. */
  let chunks: Chunk[] | null = null;
  /** username → its chunk. */
  let chunkOf = new Map<string, Chunk>();
  let shared = new Map<string, { at: number; roles: readonly string[]; lines: string }>();
  let anonymous: Lines = { at: -1, block: null };
  let patterns: Lines = { at: -1, block: null };
  let header: Block | null = null;
  let password = '';
  /** The chunks' password blocks `password` was joined from. */
  let joined: readonly (Block | null)[] = [];
  /** The next chunk a warm-up looks at. */
  let warmAt = 0;
  /** The users in file order, taken by a warm-up one turn before it cuts them into chunks. */
  let pendingNames: string[] | null = null;

  /** Makes `t` the tracker the cache follows: another state object means nothing cached is known to hold. */
  const follow = (t: Touches): void => {
    if (t === tracker) return;
    // A replay, a reloaded store: start over, and read the journal from here on.
    tracker = t;
    renderedAt = -1;
    journalAt = t.journalBase + t.journal.length;
    chunks = null;
    chunkOf = new Map();
    shared = new Map();
    anonymous = { at: -1, block: null };
    patterns = { at: -1, block: null };
    warmAt = 0;
    pendingNames = null;
  };

  const chunkOfNames = (names: string[]): Chunk => {
    const chunk: Chunk = { names, pw: null, acl: null, dirty: true };
    for (const n of names) chunkOf.set(n, chunk);
    return chunk;
  };

  /** The users in file order, but the service account. */
  // The default sort compares UTF-16 code units, as compareText does, without a call per pair.
  const namesOf = (state: BrokerConfig): string[] => Object.keys(state.users).filter((n) => n !== sa.username).sort();

  /**
   * Every user in file order, in chunks still to render. The service account has a chunk of its
   * own: its ACL block names the generation, so it is rendered at every apply, alone. `names` may
   * be a turn old (a warm-up): users created or deleted since are in the tracker's journal, which
   * the next render reads from where it stood before the names were taken (`follow`).
   */
  const cut = (state: BrokerConfig, names = namesOf(state)): Chunk[] => {
    pendingNames = null;
    const at = position(names, sa.username);
    const out: Chunk[] = [];
    chunkOf = new Map();
    for (const part of [names.slice(0, at), [sa.username], names.slice(at)]) {
      for (let i = 0; i < part.length; i += size) out.push(chunkOfNames(part.slice(i, i + size)));
    }
    warmAt = 0;
    return out;
  };

  /** A user created since the cut joins the chunk its name sorts into; a chunk twice the size splits. */
  const insert = (all: Chunk[], name: string): void => {
    let i = 0;
    while (i + 1 < all.length && compareText((all[i + 1] as Chunk).names[0] as string, name) <= 0) i++;
    if (all[i] === chunkOf.get(sa.username)) {
      // Never into the service account's chunk: the neighbour on the name's side, or a new one.
      const before = compareText(name, sa.username) < 0;
      const j = before ? i - 1 : i + 1;
      if (j < 0 || j >= all.length) {
        all.splice(before ? i : i + 1, 0, chunkOfNames([name]));
        return;
      }
      i = j;
    }
    const chunk = all[i] as Chunk;
    chunk.names.splice(position(chunk.names, name), 0, name);
    chunkOf.set(name, chunk);
    chunk.dirty = true;
    if (chunk.names.length >= 2 * size) all.splice(i + 1, 0, chunkOfNames(chunk.names.splice(size)));
  };

  const remove = (all: Chunk[], name: string, chunk: Chunk): void => {
    const at = chunk.names.indexOf(name);
    if (at >= 0) chunk.names.splice(at, 1);
    chunkOf.delete(name);
    chunk.dirty = true;
    if (chunk.names.length === 0) all.splice(all.indexOf(chunk), 1);
  };

  const rulesOf = (state: BrokerConfig, principal: string): AclRule[] =>
    [...rulesByPrincipal(state.rules, principal)].sort((a, b) => a.id - b.id);

  /** Users with the same roles and no direct rules share one list (as buildAclModel does). */
  const sharedLines = (state: BrokerConfig, t: Touches, name: string, roles: readonly string[]): string => {
    const key = roles.join('\u0000');
    const hit = shared.get(key);
    if (hit && !hit.roles.some((r) => (t.roles.get(r) ?? 0) > hit.at)) return hit.lines;
    // No direct rules: the list depends on the roles only, whoever the user is.
    const lines = aclLines('topic', userAclList(name, roles, (p) => rulesOf(state, p)));
    shared.set(key, { at: state.seq, roles, lines });
    return lines;
  };

  /** Renders `chunk` from the state; the service account's ACL block is given (it names the generation). */
  const renderChunk = (state: BrokerConfig, t: Touches, chunk: Chunk, saAcl: string): void => {
    let pw = '';
    const keys: string[] = [];
    const acl: string[] = [];
    for (const name of chunk.names) {
      if (name === sa.username) {
        pw += saLine;
        keys.push(name);
        acl.push(saAcl);
        continue;
      }
      const user = Object.hasOwn(state.users, name) ? state.users[name] : undefined;
      // Deleted since the cut (the journal removes it at the next render), or disabled: in neither file (DESIGN §6).
      if (user === undefined || user.disabled) continue;
      const roles = [...user.roles].sort(compareText);
      const direct = rulesByPrincipal(state.rules, `user:${name}`).length > 0;
      const list: AclEntry[] | null = direct ? userAclList(name, roles, (p) => rulesOf(state, p)) : null;
      const lines = list ? aclLines('topic', list) : sharedLines(state, t, name, roles);
      // No block for a user without rules, except one without a password line (acl-model.ts).
      if (lines !== '' || user.passwordHash === '') acl.push(`user ${name}\n${lines}`);
      if (user.passwordHash !== '') {
        pw += `${name}:${user.passwordHash}\n`;
        keys.push(name);
      }
    }
    chunk.pw = same(chunk.pw, pw, keys);
    chunk.acl = same(chunk.acl, acl.join('\n'));
    chunk.dirty = false;
  };

  return {
    /**
     * Renders up to about `budget` users' chunks that have not been rendered, so the first render
     * of a large state can be spread over many turns of the event loop (issue 14: the API answers
     * while the server starts). Returns the blocks made (for the checker), or null once every
     * chunk is rendered. The state may change between calls: each chunk reflects the state when
     * it was made, and whatever touched its users later is in the tracker's journal, which the
     * next render reads from where `follow` started it — so the render's output is the same as
     * without a warm-up (property-tested). The service account's chunk waits for the render (its
     * ACL block names the generation).
     */
    warm(state: BrokerConfig, budget: number): { password: Block[]; acl: Block[] } | null {
      const t = touchesOf(state);
      follow(t);
      const out = { password: [] as Block[], acl: [] as Block[] };
      // The rule index and the cut first, each in turns of its own (issue 14: the first turn of
      // a warm-up at 100,000 users took 125 ms, and /healthz waited for it).
      if (!buildRuleIndexStep(state.rules, budget * 20)) return out;
      if (chunks === null) {
        if (pendingNames === null) pendingNames = namesOf(state);
        else chunks = cut(state, pendingNames);
        return out;
      }
      let users = 0;
      while (warmAt < chunks.length && users < Math.max(1, budget)) {
        const chunk = chunks[warmAt++] as Chunk;
        if (!chunk.dirty || chunkOf.get(sa.username) === chunk) continue;
        renderChunk(state, t, chunk, '');
        users += chunk.names.length;
        if (chunk.pw) out.password.push(chunk.pw);
        if (chunk.acl) out.acl.push(chunk.acl);
      }
      return users === 0 && warmAt >= chunks.length ? null : out;
    },

    render(state: BrokerConfig, generation: number): IncrementalRender {
      const t = touchesOf(state);
      const at = state.seq;
      follow(t);

      // The journal moved past what we read: every chunk again.
      if (journalAt < t.journalBase) chunks = null;
      const all = chunks === null ? cut(state) : chunks;
      chunks = all;
      for (let i = journalAt - t.journalBase; i < t.journal.length; i++) {
        const name = t.journal[i] as string;
        if (name === sa.username) continue;
        const chunk = chunkOf.get(name);
        const exists = Object.hasOwn(state.users, name);
        if (chunk && exists) chunk.dirty = true;
        else if (chunk) remove(all, name, chunk);
        else if (exists) insert(all, name);
      }
      journalAt = t.journalBase + t.journal.length;
      if (t.rolesAt > renderedAt) {
        // A role's rules changed: every chunk with a user holding it (one pass over the users; roles are few).
        for (const [name, chunk] of chunkOf) {
          if (chunk.dirty || name === sa.username) continue;
          const user = Object.hasOwn(state.users, name) ? state.users[name] : undefined;
          if (user?.roles.some((r) => (t.roles.get(r) ?? 0) > renderedAt)) chunk.dirty = true;
        }
      }
      const saChunk = chunkOf.get(sa.username);
      if (saChunk) saChunk.dirty = true; // its probe line names the generation
      renderedAt = at;

      const list = (principal: string): AclRule[] => rulesOf(state, principal);
      if (t.anonymous > anonymous.at) anonymous = { at, block: same(anonymous.block, aclLines('topic', anonymousAclList(list))) };
      if (t.patterns > patterns.at) patterns = { at, block: same(patterns.block, aclLines('pattern', patternAclList(list))) };
      const head = (header = same(header, aclHeader(generation)) as Block);
      const saAcl = `user ${sa.username}\n${aclLines('topic', reduceList(serviceAccountSources(sa.username, generation)))}`;

      for (const chunk of all) if (chunk.dirty) renderChunk(state, t, chunk, saAcl);

      const pwBlocks: Block[] = [];
      for (const c of all) if (c.pw) pwBlocks.push(c.pw);
      // The password body stays the same string when no line changed: the callers compare, hash
      // and check it by identity first, and it is most of the bytes.
      if (pwBlocks.length !== joined.length || pwBlocks.some((b, i) => b !== joined[i])) {
        password = pwBlocks.map((b) => b.text).join('');
        joined = pwBlocks;
      }

      const aclBlocks: Block[] = [head];
      if (anonymous.block) aclBlocks.push(anonymous.block);
      for (const c of all) if (c.acl) aclBlocks.push(c.acl);
      if (patterns.block) aclBlocks.push(patterns.block);
      return { password, passwordBlocks: pwBlocks, acl: aclBlocks.map((b) => b.text).join('\n'), aclBlocks };
    },
  };
};
