/**
 * Which admin user an OpenID Connect account is (issue 17): the user linked to the provider's
 * (issuer, subject) pair, whatever the provider calls it today; otherwise the username it
 * offers. Pure lookups on the state, shared by decide and the stream a sign-in is recorded on.
 */
import type { AdminUser, BrokerConfig } from './state.ts';

export type SsoIdentity = Readonly<{ issuer: string; subject: string }>;

export const linkedAdminUser = (state: BrokerConfig, id: SsoIdentity): AdminUser | undefined =>
  Object.values(state.adminUsers).find((u) => u.sso !== undefined && u.sso.issuer === id.issuer && u.sso.subject === id.subject);

/** The username a sign-in acts on: the linked user's, else the offered one. */
export const ssoUsername = (data: SsoIdentity & { username: string }, state: BrokerConfig): string =>
  linkedAdminUser(state, data)?.username ?? data.username;
