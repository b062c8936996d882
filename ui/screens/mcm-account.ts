/**
 * Account (any signed-in user, DESIGN §8-9): who you are (GET /auth/me), your password
 * (POST /auth/password, current password required) and two-factor sign-in:
 *
 *   set up   POST /auth/mfa/setup {password[, code when MFA is already on]} → otpauth URL, secret
 *            and 10 recovery codes, shown once: the URL as a QR code drawn on a <canvas> by the
 *            `qrcode` package (the CSP forbids data: images), the secret as text for manual entry;
 *   verify   POST /auth/mfa/verify {code} turns it on (a re-setup replaces the old secret only now);
 *   disable  DELETE /auth/mfa {password, code}.
 *
 * Then your API tokens (components/api-tokens-panel.ts, issue 17).
 *
 * A password change, verify and disable revoke the token that made the request; the answer
 * carries a fresh one, swapped in by tokenChangingCall (ui/data/account-model.ts), so the user
 * stays signed in here while every other session of theirs ends.
 */
import { css, html, nothing, type PropertyValues } from 'lit';
import { toCanvas } from 'qrcode';
import { McmScreen } from '../app/mcm-screen.ts';
import { confirmDialog } from '../components/mcm-confirm.ts';
import '../components/mcm-copy-button.ts';
import '../components/api-tokens-panel.ts';
import {
  codeProblem, groupSecret, normalizeCode, otpauthLabel, passwordFormProblems, tokenChangingCall,
  type Me, type MfaSetup, type PasswordForm,
} from '../data/account-model.ts';
import { adminPasswordProblem } from '../data/admin-users-model.ts';
import { formatTime } from '../data/format.ts';

const SIGN_IN_AGAIN = 'Your credentials changed. Sign in again with the new ones.';

export class McmAccount extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    section.card { margin-bottom: 1rem; max-width: 52rem; }
    mcm-api-tokens { display: block; max-width: 52rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
    dt { color: var(--fg-muted); }
    dd { margin: 0; }
    .enrol { display: grid; gap: 1rem 1.5rem; grid-template-columns: auto 1fr; align-items: start; }
    @media (max-width: 640px) { .enrol { grid-template-columns: 1fr; } }
    canvas { display: block; border-radius: 6px; background: #fff; border: 1px solid var(--border); }
    code.secret { font-size: 1.05rem; letter-spacing: .04em; padding: .25rem .45rem; background: var(--bg-sunken); border-radius: 4px; overflow-wrap: anywhere; }
    ol.codes { columns: 2; font-family: ui-monospace, Menlo, Consolas, monospace; margin: .4rem 0; padding-left: 1.8rem; }
    ol.codes li { padding: .1rem 0; }
    .steps h3 { margin-top: .2rem; }
    form.row input { min-width: 12rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    me: { state: true }, meError: { state: true },
    pwd: { state: true }, pwdTouched: { state: true }, pwdError: { state: true },
    enrolment: { state: true }, mfaError: { state: true }, busy: { state: true }, qrError: { state: true },
  };
  declare me: Me | null;
  declare meError: string;
  declare pwd: PasswordForm;
  declare pwdTouched: boolean;
  declare pwdError: string;
  /** The answer of POST /auth/mfa/setup while it is being verified: shown once, never stored. */
  declare enrolment: MfaSetup | null;
  declare mfaError: string;
  declare busy: '' | 'password' | 'setup' | 'verify' | 'disable';
  declare qrError: string;

  constructor() {
    super();
    this.me = null;
    this.meError = '';
    this.pwd = { current: '', next: '', confirm: '' };
    this.pwdTouched = false;
    this.pwdError = '';
    this.enrolment = null;
    this.mfaError = '';
    this.busy = '';
    this.qrError = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadMe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Leaving the page forgets the secret and the recovery codes: they are shown once.
    this.enrolment = null;
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if (changed.has('enrolment') && this.enrolment) void this.drawQr(this.enrolment.otpauth_url);
  }

  private async drawQr(url: string): Promise<void> {
    const canvas = this.renderRoot.querySelector('canvas#mfa-qr') as HTMLCanvasElement | null;
    if (!canvas) return;
    try {
      // Black on white whatever the theme: phone cameras read dark-on-light codes best.
      await toCanvas(canvas, url, { width: 208, margin: 2, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } });
      this.qrError = '';
    } catch (err) {
      this.qrError = `The QR code could not be drawn (${(err as Error).message}): enter the secret by hand.`;
    }
  }

  private async loadMe(): Promise<void> {
    try {
      this.me = await this.services.api.get<Me>('/auth/me');
      this.meError = '';
    } catch (err) {
      this.meError = this.errorText(err);
    }
  }

  private swapDeps() {
    return { live: this.services.live, session: this.services.session };
  }

  // ------------------------------------------------------------ password

  private async changePassword(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.pwdTouched = true;
    if (passwordFormProblems(this.pwd, adminPasswordProblem).length > 0) return;
    this.busy = 'password';
    this.pwdError = '';
    try {
      const { renewed } = await tokenChangingCall(this.swapDeps(),
        () => this.services.api.post('/auth/password', { current_password: this.pwd.current, new_password: this.pwd.next }), SIGN_IN_AGAIN);
      if (!renewed) return;
      this.pwd = { current: '', next: '', confirm: '' };
      this.pwdTouched = false;
      this.services.notify({ kind: 'ok', text: 'Password changed. Your other sessions were signed out.' });
      void this.loadMe();
    } catch (err) {
      this.pwdError = this.errorText(err);
    } finally {
      this.busy = '';
    }
  }

  // ------------------------------------------------------------ MFA

  private async setup(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    // Kept now: a shadow-DOM event's target is null once dispatch is over (after the first await).
    const formEl = e.target as HTMLFormElement;
    const form = new FormData(formEl);
    const password = String(form.get('password') ?? '');
    const code = normalizeCode(String(form.get('code') ?? ''));
    const reEnrol = this.me?.mfa_enabled === true;
    if (password === '') { this.mfaError = 'Enter your password to start.'; return; }
    const problem = reEnrol ? codeProblem(code, true) : null;
    if (problem) { this.mfaError = `Current code: ${problem}.`; return; }
    this.busy = 'setup';
    this.mfaError = '';
    try {
      this.enrolment = await this.services.api.post<MfaSetup>('/auth/mfa/setup', { password, ...(reEnrol ? { code } : {}) });
      formEl.reset();
      void this.loadMe();
      await this.updateComplete;
      (this.renderRoot.querySelector('#enrol-h') as HTMLElement | null)?.focus();
    } catch (err) {
      this.mfaError = this.errorText(err);
    } finally {
      this.busy = '';
    }
  }

  private async verify(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const code = normalizeCode(String(new FormData(form).get('code') ?? ''));
    const problem = codeProblem(code, false);
    if (problem) { this.mfaError = `${problem[0]?.toUpperCase()}${problem.slice(1)}.`; return; }
    this.busy = 'verify';
    this.mfaError = '';
    try {
      const { renewed } = await tokenChangingCall(this.swapDeps(), () => this.services.api.post('/auth/mfa/verify', { code }), SIGN_IN_AGAIN);
      if (!renewed) return;
      this.enrolment = null;
      this.services.notify({ kind: 'ok', text: 'Two-factor sign-in is on. Your next sign-in asks for a code; your other sessions were signed out.' });
      await this.loadMe();
    } catch (err) {
      this.mfaError = this.errorText(err);
      form.reset();
    } finally {
      this.busy = '';
    }
  }

  private async disable(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const password = String(data.get('password') ?? '');
    const code = normalizeCode(String(data.get('code') ?? ''));
    const problem = password === '' ? 'Enter your password.' : codeProblem(code, true);
    if (problem) { this.mfaError = problem; return; }
    const ok = await confirmDialog({
      title: 'Turn off two-factor sign-in?',
      message: 'Your password alone will sign you in again, and your recovery codes stop working.',
      confirm: 'Turn off',
    });
    if (!ok) return;
    this.busy = 'disable';
    this.mfaError = '';
    try {
      const { renewed } = await tokenChangingCall(this.swapDeps(),
        async () => (await this.services.api.request<unknown>('DELETE', '/auth/mfa', { body: { password, code } })).body, SIGN_IN_AGAIN);
      if (!renewed) return;
      form.reset();
      this.services.notify({ kind: 'ok', text: 'Two-factor sign-in is off.' });
      await this.loadMe();
    } catch (err) {
      this.mfaError = this.errorText(err);
    } finally {
      this.busy = '';
    }
  }

  // ------------------------------------------------------------ rendering

  private renderMe() {
    const me = this.me;
    if (this.meError) return html`<p class="banner error" role="alert">${this.meError}</p>`;
    if (!me) return html`<p class="muted" role="status">Loading…</p>`;
    return html`<dl>
      <dt>Username</dt><dd>${me.username}</dd>
      <dt>Role</dt><dd><span class="badge" data-role=${me.role}>${me.role}</span></dd>
      <dt>Two-factor sign-in</dt><dd data-testid="mfa-state">${me.mfa_enabled ? html`<span class="badge ok">on</span>` : html`<span class="badge warn">off</span>`}
        ${me.mfa_enabled && me.recovery_codes_left !== undefined ? html`<span class="small ${me.recovery_codes_left <= 2 ? 'warn' : 'muted'}" data-testid="recovery-left">${me.recovery_codes_left} recovery code${me.recovery_codes_left === 1 ? '' : 's'} left</span>` : nothing}</dd>
      ${me.created_at ? html`<dt>Created</dt><dd>${formatTime(me.created_at)}</dd>` : nothing}
    </dl>`;
  }

  private renderPassword() {
    const problems = this.pwdTouched ? passwordFormProblems(this.pwd, adminPasswordProblem) : [];
    const problem = (f: keyof PasswordForm) => problems.find((p) => p.field === f)?.message;
    const field = (name: keyof PasswordForm, label: string, autocomplete: string) => html`
      <label>${label}
        <input type="password" name=${name} autocomplete=${autocomplete} .value=${this.pwd[name]} aria-invalid=${problem(name) ? 'true' : 'false'} aria-describedby="pwd-${name}-help"
          @input=${(e: InputEvent) => { this.pwd = { ...this.pwd, [name]: (e.target as HTMLInputElement).value }; }}>
        <span id="pwd-${name}-help" class="small error">${problem(name) ?? ''}</span>
      </label>`;
    return html`
      <section class="card" aria-labelledby="pwd-h">
        <h2 id="pwd-h">Change password</h2>
        ${this.pwdError ? html`<p class="banner error" role="alert">${this.pwdError}</p>` : nothing}
        <form class="row" @submit=${(e: SubmitEvent) => this.changePassword(e)} novalidate>
          ${field('current', 'Current password', 'current-password')}
          ${field('next', 'New password', 'new-password')}
          ${field('confirm', 'New password again', 'new-password')}
          <button type="submit" class="primary" ?disabled=${this.busy === 'password'}>Change password</button>
        </form>
        <p class="small muted">At least 12 characters. Every other session of yours ends; this one continues.</p>
      </section>`;
  }

  private renderEnrolment(en: MfaSetup) {
    const label = otpauthLabel(en.otpauth_url);
    return html`
      <div class="steps" aria-labelledby="enrol-h">
        <h3 id="enrol-h" tabindex="-1">Set up your authenticator</h3>
        <div class="enrol">
          <div>
            <canvas id="mfa-qr" width="208" height="208" role="img" aria-label="QR code of the authenticator entry (otpauth URL)${label ? ` for ${label.account}` : ''}" data-testid="mfa-qr"></canvas>
            ${this.qrError ? html`<p class="small error" role="alert">${this.qrError}</p>` : nothing}
          </div>
          <div class="stack">
            <p><strong>1.</strong> Scan the QR code with an authenticator app (any TOTP app: 6 digits, 30 s)${label ? html` — the entry is <strong>${label.issuer ? `${label.issuer}: ` : ''}${label.account}</strong>` : nothing}.</p>
            <p>Can't scan? Enter this secret by hand (time-based):</p>
            <p class="row"><code class="secret" data-testid="mfa-secret">${groupSecret(en.secret)}</code><mcm-copy-button .value=${en.secret} label="Copy secret"></mcm-copy-button></p>
          </div>
        </div>
        <p><strong>2.</strong> Save these recovery codes somewhere safe. Each one signs you in once if you lose the authenticator. They are shown only now.</p>
        <ol class="codes" data-testid="recovery-codes">${en.recovery_codes.map((c) => html`<li>${c}</li>`)}</ol>
        <mcm-copy-button .value=${en.recovery_codes.join('\n')} label="Copy recovery codes"></mcm-copy-button>
        <p><strong>3.</strong> Enter the code the app shows now to turn two-factor sign-in on.</p>
        <form class="row" @submit=${(e: SubmitEvent) => this.verify(e)} novalidate>
          <label>Code from the app <input name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="9" required></label>
          <button type="submit" class="primary" ?disabled=${this.busy === 'verify'}>Verify and turn on</button>
          <button type="button" @click=${() => { this.enrolment = null; this.mfaError = ''; }}>Cancel</button>
        </form>
        ${this.me?.mfa_enabled ? html`<p class="small muted">Until you verify, your current authenticator and recovery codes keep working.</p>` : nothing}
      </div>`;
  }

  private renderMfa() {
    const me = this.me;
    if (!me) return nothing;
    const en = this.enrolment;
    return html`
      <section class="card" aria-labelledby="mfa-h">
        <h2 id="mfa-h">Two-factor sign-in (TOTP)</h2>
        ${this.mfaError ? html`<p class="banner error" role="alert">${this.mfaError}</p>` : nothing}
        ${en ? this.renderEnrolment(en) : html`
          ${me.mfa_pending ? html`<p class="banner warn" role="status">A setup was started but never verified. Its secret can't be shown again: start again to get a new one.</p>` : nothing}
          ${me.mfa_enabled ? html`
            <p>Sign-in asks for a code from your authenticator app after the password.${me.recovery_codes_left !== undefined && me.recovery_codes_left <= 2 ? html` <strong class="warn">Only ${me.recovery_codes_left} recovery code${me.recovery_codes_left === 1 ? '' : 's'} left: set up again to get 10 new ones.</strong>` : nothing}</p>
            <h3>Move to a new device</h3>
            <form class="row" @submit=${(e: SubmitEvent) => this.setup(e)} novalidate>
              <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
              <label>Current code or recovery code <input name="code" autocomplete="one-time-code" required></label>
              <button type="submit" ?disabled=${this.busy === 'setup'}>Set up again</button>
            </form>
            <h3>Turn off</h3>
            <form class="row" @submit=${(e: SubmitEvent) => this.disable(e)} novalidate>
              <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
              <label>Current code or recovery code <input name="code" autocomplete="one-time-code" required></label>
              <button type="submit" class="danger" ?disabled=${this.busy === 'disable'}>Turn off two-factor sign-in</button>
            </form>` : html`
            <p>Protect your account with a second step at sign-in: a 6-digit code from an authenticator app on your phone.</p>
            <form class="row" @submit=${(e: SubmitEvent) => this.setup(e)} novalidate>
              <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
              <button type="submit" class="primary" ?disabled=${this.busy === 'setup'}>Set up two-factor sign-in</button>
            </form>`}`}
      </section>`;
  }

  override render() {
    return html`
      <h1>Account</h1>
      <section class="card" aria-labelledby="me-h">
        <h2 id="me-h">You</h2>
        ${this.renderMe()}
      </section>
      ${this.me?.local_password === false ? html`
        <section class="card" aria-labelledby="sso-h" data-testid="sso-account">
          <h2 id="sso-h">Password and two-factor sign-in</h2>
          <p>You sign in with single sign-on: your password and your second factor are managed at your identity provider, not in MCM.</p>
        </section>` : html`${this.renderPassword()}${this.renderMfa()}`}
      <mcm-api-tokens .services=${this.services} scope="own"></mcm-api-tokens>`;
  }
}
customElements.define('mcm-account', McmAccount);
