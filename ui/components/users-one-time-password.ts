/**
 * A password MCM generated, shown once (DESIGN §5): the value, a copy button and the warning that
 * it can't be shown again (MCM keeps only its hash). `dismiss` fires when the operator is done.
 */
import { css, html, LitElement } from 'lit';
import { shared } from '../styles/theme.ts';
import './mcm-copy-button.ts';

export class UsersOneTimePassword extends LitElement {
  static override styles = [shared, css`
    .secret { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .4rem 0; }
    .secret code { font-size: 1.05rem; padding: .25rem .5rem; background: var(--bg-sunken); border-radius: 6px; user-select: all; word-break: break-all; }
  `];
  static override properties = { username: {}, password: {}, action: {}, copyFailed: { state: true } };
  declare username: string;
  declare password: string;
  /** 'created' or 'reset': what produced the password. */
  declare action: string;
  declare copyFailed: boolean;

  constructor() {
    super();
    this.username = '';
    this.password = '';
    this.action = 'created';
    this.copyFailed = false;
  }

  private onCopyFailed(): void {
    this.copyFailed = true;
    const code = this.renderRoot.querySelector('code');
    const sel = window.getSelection();
    if (code && sel) sel.selectAllChildren(code);
  }

  override render() {
    return html`<section class="banner warn" aria-labelledby="otp-h">
      <h3 id="otp-h">${this.action === 'reset' ? 'New password' : 'Generated password'} for ${this.username}</h3>
      <div class="secret" @copy-failed=${() => this.onCopyFailed()}>
        <code data-testid="one-time-password" aria-label="password">${this.password}</code>
        <mcm-copy-button .value=${this.password} label="Copy password"></mcm-copy-button>
      </div>
      <p><strong>It won't be shown again:</strong> MCM stores only a hash. Copy it now into the device's configuration.</p>
      ${this.copyFailed ? html`<p class="small">The browser refused the clipboard (plain HTTP?): the password is selected, copy it with Ctrl+C.</p>` : ''}
      <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('dismiss', { bubbles: true, composed: true }))}>I have stored it — hide</button>
    </section>`;
  }
}
customElements.define('users-one-time-password', UsersOneTimePassword);
