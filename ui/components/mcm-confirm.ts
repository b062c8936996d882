/**
 * A confirmation dialog (native <dialog>: focus trap, Escape to cancel). `await confirmDialog(host,
 * {title, message, confirm})` resolves true only when the user confirms.
 */
import { css, html, LitElement } from 'lit';
import { shared } from '../styles/theme.ts';

export class McmConfirm extends LitElement {
  // No inline <style>: the CSP (default-src 'self') blocks it; adopted stylesheets are fine.
  static override styles = [shared, css`dialog { border: 1px solid var(--border-strong); border-radius: 10px; background: var(--bg-raised); color: var(--fg); max-width: 28rem; } dialog::backdrop { background: rgb(0 0 0 / .4); }`];
  static override properties = { heading: {}, message: {}, confirmLabel: {} };
  declare heading: string;
  declare message: string;
  declare confirmLabel: string;
  private resolve: ((ok: boolean) => void) | null = null;

  constructor() {
    super();
    this.heading = 'Are you sure?';
    this.message = '';
    this.confirmLabel = 'Confirm';
  }

  open(): Promise<boolean> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      void this.updateComplete.then(() => this.renderRoot.querySelector('dialog')?.showModal());
    });
  }

  private close(ok: boolean): void {
    this.renderRoot.querySelector('dialog')?.close();
    this.resolve?.(ok);
    this.resolve = null;
    this.remove();
  }

  override render() {
    return html`<dialog aria-labelledby="h" @cancel=${(e: Event) => { e.preventDefault(); this.close(false); }}>
      <h2 id="h">${this.heading}</h2>
      <p>${this.message}</p>
      <div class="actions">
        <button type="button" class="danger" @click=${() => this.close(true)}>${this.confirmLabel}</button>
        <button type="button" autofocus @click=${() => this.close(false)}>Cancel</button>
      </div>
    </dialog>`;
  }
}
customElements.define('mcm-confirm', McmConfirm);

export const confirmDialog = (opts: { title: string; message: string; confirm?: string }): Promise<boolean> => {
  const el = document.createElement('mcm-confirm') as McmConfirm;
  el.heading = opts.title;
  el.message = opts.message;
  el.confirmLabel = opts.confirm ?? 'Confirm';
  document.body.append(el);
  return el.open();
};
