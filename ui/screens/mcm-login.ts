/**
 * Sign in (DESIGN §8): POST /auth/login with username and password; when the account has MFA the
 * answer is a single-use challenge and a second step asks for a TOTP or recovery code
 * (POST /auth/login/mfa). Lockouts (429) and wrong credentials show the server's message.
 * With single sign-on configured (GET /auth/providers) it offers "Sign in with <provider>": the
 * browser goes to the provider and comes back to `/?sso=done`, where this screen collects the
 * result once (POST /auth/oidc/exchange): a session, or the server's message why not.
 */
import { css, html } from 'lit';
import { ApiError } from '../data/api-client.ts';
import type { SessionData } from '../data/session.ts';
import { McmScreen } from '../app/mcm-screen.ts';

type LoginAnswer = SessionData | { mfa_required: true; mfa_challenge: string };
type Providers = { password_login: boolean; oidc: { display_name: string } | null };

export class McmLogin extends McmScreen {
  static override styles = [...McmScreen.styles, css`.login { max-width: 24rem; margin: 12vh auto; }`];
  static override properties = {
    ...McmScreen.properties, reason: {}, challenge: { state: true }, error: { state: true }, busy: { state: true }, providers: { state: true },
  };
  declare providers: Providers;
  declare reason: string;
  declare challenge: string | null;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.reason = '';
    this.challenge = null;
    this.error = '';
    this.busy = false;
    this.providers = { password_login: true, oidc: null };
  }

  override firstUpdated(): void {
    const { api } = this.services;
    void api.request<Providers>('GET', '/auth/providers', { auth: false }).then((r) => { this.providers = r.body; }).catch(() => {});
    const url = new URL(window.location.href);
    if (url.searchParams.get('sso') === 'done') {
      window.history.replaceState(null, '', url.pathname);
      void this.collectSso();
    }
  }

  /** Back from the provider: the server holds the result for this browser, once. */
  private async collectSso(): Promise<void> {
    this.busy = true;
    try {
      this.services.session.set((await this.services.api.request<SessionData>('POST', '/auth/oidc/exchange', { auth: false })).body);
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private async startSso(): Promise<void> {
    this.busy = true;
    this.error = '';
    try {
      const { body } = await this.services.api.request<{ authorization_url: string }>('POST', '/auth/oidc/start', { auth: false });
      window.location.assign(body.authorization_url);
    } catch (err) {
      this.error = this.errorText(err);
      this.busy = false;
    }
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    try {
      const { api, session } = this.services;
      const answer = this.challenge === null
        ? (await api.request<LoginAnswer>('POST', '/auth/login', { auth: false, body: { username: String(form.get('username') ?? ''), password: String(form.get('password') ?? '') } })).body
        : (await api.request<LoginAnswer>('POST', '/auth/login/mfa', { auth: false, body: { mfa_challenge: this.challenge, code: String(form.get('code') ?? '').replace(/\s+/g, '') } })).body;
      if ('mfa_required' in answer) {
        this.challenge = answer.mfa_challenge;
        await this.updateComplete;
        (this.renderRoot.querySelector('input[name=code]') as HTMLInputElement | null)?.focus();
        return;
      }
      session.set(answer);
    } catch (err) {
      const e = err as ApiError;
      // An expired or used-up challenge can't be retried: start over.
      if (this.challenge !== null && e instanceof ApiError && e.status === 401 && /challenge/i.test(e.message)) this.challenge = null;
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`
      <main class="card login" aria-labelledby="login-h">
        <h1 id="login-h">Sign in to MCM</h1>
        ${this.reason ? html`<p class="banner warn" role="status">${this.reason}</p>` : ''}
        ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : ''}
        ${this.providers.oidc && this.challenge === null ? html`
          <p><button class="primary" type="button" ?disabled=${this.busy} @click=${() => this.startSso()}>Sign in with ${this.providers.oidc.display_name}</button></p>` : ''}
        ${this.providers.password_login || this.challenge !== null ? this.renderPasswordForm() : ''}
      </main>`;
  }

  private renderPasswordForm() {
    return html`
        <form class="stack" @submit=${(e: SubmitEvent) => this.submit(e)}>
          ${this.challenge === null
            ? html`
              <label>Username <input name="username" autocomplete="username" required autofocus></label>
              <label>Password <input name="password" type="password" autocomplete="current-password" required></label>`
            : html`
              <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
              <label>Code <input name="code" autocomplete="one-time-code" inputmode="text" required></label>`}
          <button class="primary" type="submit" ?disabled=${this.busy}>${this.challenge === null ? 'Sign in' : 'Verify'}</button>
          ${this.challenge !== null ? html`<button type="button" class="link" @click=${() => { this.challenge = null; this.error = ''; }}>Start over</button>` : ''}
        </form>`;
  }
}
customElements.define('mcm-login', McmLogin);
