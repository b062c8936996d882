/**
 * The password file body and the ACL file, rendered incrementally (issue 14): each user's
 * password line and ACL block is cached with the seq it was rendered at and rendered again only
 * when the event tracker (core/evolve/touches.ts) says something it depends on was touched
 * since — the user, its direct rules, or one of its roles. The output is byte for byte what
 * renderPasswordFile and renderAclFileFromState produce for the same state (property-tested):
 * the lists come from the same functions (core/acl-model.ts), and a block is only ever reused
 * for a state in which nothing it was built from has changed.
 *
 * Each block also carries the checker's verdict (`ok`), set by checkBlocks (./checked-blocks.ts):
 * a block rendered again gets a new block object, so a verdict can never outlive the text it was
 * given for, except when the new text is identical (same text, same verdict).
 *
 * Pure: no clock, no I/O; the cache is memory owned by the caller's renderer object.
 */
import { anonymousAclList, compareText, patternAclList, reduceList, serviceAccountSources, userAclList, type AclEntry } from '../core/acl-model.ts';
import type { AclRule } from '../core/acl-types.ts';
import { rulesByPrincipal } from '../core/evolve/rule-index.ts';
import { touchesOf, type Touches } from '../core/evolve/touches.ts';
import type { BrokerConfig, MqttUser } from '../core/state.ts';
import { aclHeader, aclLines } from './acl-file.ts';
import type { ServiceAccountEntry } from './password-file.ts';

/** A piece of a rendered file and whether the checker passed exactly this text. */
export type Block = { readonly text: string; ok: boolean; readonly key?: string };

export type IncrementalRender = Readonly<{
  /** renderPasswordFile's output. */
  password: string;
  /** One block per line, in file order, `key` = the username. */
  passwordBlocks: readonly Block[];
  /** renderAclFileFromState's output. */
  acl: string;
  /** The file is these texts joined with '\n' (a blank line between blocks). */
  aclBlocks: readonly Block[];
}>;

/** `stale`: the user was touched since; its blocks are the old ones, kept so an unchanged text keeps its object and verdict. */
type UserEntry = { pw: Block | null; acl: Block | null; stale: boolean };
type Lines = { at: number; block: Block | null };

/**
 * Users per chunk. A chunk keeps its joined texts, so a change re-joins one chunk and then the
 * chunks: joining 100,000 blocks per apply cost more than everything else (issue 14).
 */
const CHUNK = 256;
type Chunk = { names: string[]; pwBlocks: Block[]; aclBlocks: Block[]; pw: string; acl: string; dirty: boolean };

/** Keeps `old` (and its verdict) when the text did not change. */
const same = (old: Block | null | undefined, text: string | null, key?: string): Block | null => {
  if (text === null) return null;
  if (old && old.text === text) return old;
  return key === undefined ? { text, ok: false } : { text, ok: false, key };
};

export const createIncrementalRenderer = (opts: Readonly<{ serviceAccount: ServiceAccountEntry }>) => {
  const sa = opts.serviceAccount;
  const saLine: Block = { text: `${sa.username}:${sa.passwordHash}\n`, ok: false, key: sa.username };

  let tracker: Touches | null = null;
  /** Seq of the state last rendered, and the journal position read up to. */
  let renderedAt = -1;
  let journalAt = 0;
  let namesAt = -1;
  let chunks: Chunk[] = [];
  /** username → its chunk. */
  let chunkOf = new Map<string, Chunk>();
  /** Rendered users; an entry is marked stale when the user is touched. */
  let users = new Map<string, UserEntry>();
  let shared = new Map<string, { at: number; roles: readonly string[]; lines: string }>();
  let anonymous: Lines = { at: -1, block: null };
  let patterns: Lines = { at: -1, block: null };
  let saBlock: Block | null = null;
  let header: Block | null = null;
  let password = '';

  /** A warm-up in progress: the users to render, and how far it got. */
  let warming: { names: string[]; next: number } | null = null;

  /** Makes `t` the tracker the cache follows: another state object means nothing cached is known to hold. */
  const follow = (t: Touches): void => {
    if (t === tracker) return;
    // A replay, a reloaded store: start over, and read the journal from here on.
    tracker = t;
    renderedAt = -1;
    journalAt = t.journalBase + t.journal.length;
    namesAt = -1;
    users = new Map();
    shared = new Map();
    anonymous = { at: -1, block: null };
    patterns = { at: -1, block: null };
    warming = null;
  };

  const rulesOf = (state: BrokerConfig, principal: string): AclRule[] =>
    [...rulesByPrincipal(state.rules, principal).values()].sort((a, b) => a.id - b.id);

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

  const entry = (state: BrokerConfig, t: Touches, name: string, user: MqttUser, old: UserEntry | undefined): UserEntry => {
    if (user.disabled) return { pw: null, acl: null, stale: false }; // absent from both files (DESIGN §6)
    const roles = [...user.roles].sort(compareText);
    const direct = rulesByPrincipal(state.rules, `user:${name}`).length > 0;
    const list: AclEntry[] | null = direct ? userAclList(name, roles, (p) => rulesOf(state, p)) : null;
    const lines = list ? aclLines('topic', list) : sharedLines(state, t, name, roles);
    // No block for a user without rules, except one without a password line (acl-model.ts).
    const acl = lines !== '' || user.passwordHash === '' ? `user ${name}\n${lines}` : null;
    const pw = user.passwordHash === '' ? null : `${name}:${user.passwordHash}\n`;
    return { pw: same(old?.pw, pw, name), acl: same(old?.acl, acl), stale: false };
  };

  return {
    /**
     * Renders the blocks of up to `budget` users that have none yet, so the first render of a
     * large state can be spread over many turns of the event loop (issue 14: the API answers
     * while the server starts). Returns the blocks made (for the checker), or null once every
     * user has its blocks. The state may change between calls: each block reflects the state
     * when it was made, and whatever touched its user later is in the tracker's journal, which
     * the next render reads from where `follow` started it — so the render's output is the same
     * as without a warm-up (property-tested).
     */
    warm(state: BrokerConfig, budget: number): { password: Block[]; acl: Block[] } | null {
      const t = touchesOf(state);
      follow(t);
      warming ??= { names: Object.keys(state.users), next: 0 };
      if (warming.next >= warming.names.length) return null;
      const out = { password: [] as Block[], acl: [] as Block[] };
      const stop = Math.min(warming.names.length, warming.next + Math.max(1, budget));
      for (let i = warming.next; i < stop; i++) {
        const name = warming.names[i] as string;
        const user = Object.hasOwn(state.users, name) ? state.users[name] : undefined;
        if (name === sa.username || user === undefined || users.has(name)) continue;
        const e = entry(state, t, name, user, undefined);
        users.set(name, e);
        if (e.pw) out.password.push(e.pw);
        if (e.acl) out.acl.push(e.acl);
      }
      warming.next = stop;
      return out;
    },

    render(state: BrokerConfig, generation: number): IncrementalRender {
      const t = touchesOf(state);
      const at = state.seq;
      follow(t);
      warming = null;

      if (t.roster > namesAt || journalAt < t.journalBase) {
        // Users came or went (or the journal moved past us): new chunks, every one dirty.
        if (journalAt < t.journalBase) users = new Map();
        const names = Object.keys(state.users).filter((n) => n !== sa.username).concat(sa.username).sort(compareText);
        for (const name of users.keys()) if (!Object.hasOwn(state.users, name)) users.delete(name);
        chunks = [];
        chunkOf = new Map();
        for (let i = 0; i < names.length; i += CHUNK) {
          const chunk: Chunk = { names: names.slice(i, i + CHUNK), pwBlocks: [], aclBlocks: [], pw: '', acl: '', dirty: true };
          for (const n of chunk.names) chunkOf.set(n, chunk);
          chunks.push(chunk);
        }
        namesAt = at;
      }
      const touch = (name: string): void => {
        const e = users.get(name);
        if (e) e.stale = true;
        const c = chunkOf.get(name);
        if (c) c.dirty = true;
      };
      for (let i = journalAt - t.journalBase; i < t.journal.length; i++) touch(t.journal[i] as string);
      journalAt = t.journalBase + t.journal.length;
      if (t.rolesAt > renderedAt) {
        // A role's rules changed: every user holding it (one pass over the users; roles are few).
        for (const [name, e] of users) {
          const user = state.users[name] as MqttUser;
          if (!e.stale && user.roles.some((r) => (t.roles.get(r) ?? 0) > renderedAt)) touch(name);
        }
      }
      const saChunk = chunkOf.get(sa.username);
      if (saChunk) saChunk.dirty = true; // its probe line names the generation
      renderedAt = at;

      const list = (principal: string): AclRule[] => rulesOf(state, principal);
      if (t.anonymous > anonymous.at) {
        anonymous = { at, block: same(anonymous.block, aclLines('topic', anonymousAclList(list)) || null) };
      }
      if (t.patterns > patterns.at) {
        patterns = { at, block: same(patterns.block, aclLines('pattern', patternAclList(list)) || null) };
      }
      const head = (header = same(header, aclHeader(generation)) as Block);
      const saAcl = (saBlock = same(saBlock, `user ${sa.username}\n${aclLines('topic', reduceList(serviceAccountSources(sa.username, generation)))}`) as Block);

      let pwChanged = false;
      for (const chunk of chunks) {
        if (!chunk.dirty) continue;
        const pwBlocks: Block[] = [];
        const aclBlocks: Block[] = [];
        for (const name of chunk.names) {
          if (name === sa.username) {
            pwBlocks.push(saLine);
            aclBlocks.push(saAcl);
            continue;
          }
          let e = users.get(name);
          if (e === undefined || e.stale) users.set(name, (e = entry(state, t, name, state.users[name] as MqttUser, e)));
          if (e.pw) pwBlocks.push(e.pw);
          if (e.acl) aclBlocks.push(e.acl);
        }
        if (pwBlocks.length !== chunk.pwBlocks.length || pwBlocks.some((b, i) => b !== chunk.pwBlocks[i])) {
          chunk.pw = pwBlocks.map((b) => b.text).join('');
          pwChanged = true;
        }
        chunk.pwBlocks = pwBlocks;
        chunk.aclBlocks = aclBlocks;
        chunk.acl = aclBlocks.map((b) => b.text).join('\n');
        chunk.dirty = false;
      }
      // The password body stays the same string when no line changed: the callers compare, hash
      // and check it by identity first, and it is most of the bytes.
      if (pwChanged || namesAt === at) password = chunks.map((c) => c.pw).join('');

      const acl = [head.text];
      const aclBlocks: Block[] = [head];
      if (anonymous.block) { acl.push(anonymous.block.text); aclBlocks.push(anonymous.block); }
      for (const c of chunks) {
        if (c.acl === '') continue;
        acl.push(c.acl);
        for (const b of c.aclBlocks) aclBlocks.push(b);
      }
      if (patterns.block) { acl.push(patterns.block.text); aclBlocks.push(patterns.block); }
      return { password, passwordBlocks: chunks.flatMap((c) => c.pwBlocks), acl: acl.join('\n'), aclBlocks };
    },
  };
};

