/**
 * Small helpers every resource route uses: the actor and If-Match of a write, path parameters,
 * and the shape of a successful response (status, ETag, body).
 */
import type { Context } from 'koa';
import type { Command } from '../../../core/commands.ts';
import { commandItem, commandResult, type CommandContext, type CommandResult } from '../../../core/handle-command.ts';
import type { Actor, EventEnvelope } from '../../../core/events.ts';
import type { BrokerConfig } from '../../../core/state.ts';
import type { HttpDeps } from '../deps.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { ifMatch, setEtag } from '../etag.ts';

/** The signed-in actor the authentication middleware put on the context. */
export const actorOf = (ctx: Context): Actor => {
  const actor = (ctx.state as { actor?: Actor }).actor;
  if (!actor) throw new HttpError(401, HTTP_ERROR_CODES.UNAUTHENTICATED, 'sign in first');
  return actor;
};

/** Admins manage webhooks and see their URLs whole; other roles see only the origin (URLs carry tokens). */
export const seesFullWebhookUrls = (ctx: Context): boolean =>
  (ctx.state as { admin?: { role?: string } }).admin?.role === 'admin';

/** Actor and If-Match for handleCommand. Call it before any await, so a bad header fails fast. */
export const commandContext = (ctx: Context): CommandContext => {
  const expectedSeq = ifMatch(ctx);
  return expectedSeq === undefined ? { actor: actorOf(ctx) } : { actor: actorOf(ctx), expectedSeq };
};

/** A path parameter, already URL-decoded by the router. */
export const param = (ctx: Context, name: string): string => {
  const v = (ctx as unknown as { params?: Record<string, string> }).params?.[name];
  if (v === undefined) throw new Error(`route has no :${name} parameter`);
  return v;
};

/** A positive integer id from the path (rules, schemas); anything else is 400, never a lookup. */
export const idParam = (ctx: Context, name = 'id'): number => {
  const raw = param(ctx, name);
  if (!/^[1-9]\d{0,14}$/.test(raw)) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${name} must be a positive integer`, [{ field: name, value: raw.slice(0, 100) }]);
  }
  return Number(raw);
};

/** For messages: long or odd names quoted and cut, so an error never echoes kilobytes. */
export const quote = (s: string): string => JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);

export const reply = (ctx: Context, status: number, body: unknown, seq: number): void => {
  setEtag(ctx, seq);
  ctx.status = status;
  if (status === 204) return;
  ctx.body = body;
};

/**
 * Runs a command for a request: in the server's group commit when there is one (one fsync for
 * the writes that arrive together, issue 14), else alone. `capture` reads the answer from the
 * state right after this command's events are folded, before any later command of the group.
 */
export const runCommand = async <T>(
  deps: HttpDeps,
  command: Command,
  ctx: Context,
  capture: (state: BrokerConfig, recorded: readonly EventEnvelope[]) => T,
): Promise<{ result: CommandResult; answer: T }> => {
  const item = commandItem(deps, command, commandContext(ctx));
  if (deps.commits) {
    const done = await deps.commits.run({ ...item, capture });
    return { result: commandResult(deps.store, done.recorded), answer: done.captured as T };
  }
  const recorded = deps.store.transact(item.decide, item.meta);
  return { result: commandResult(deps.store, recorded), answer: capture(deps.store.state(), recorded) };
};
