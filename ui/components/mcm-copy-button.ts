/** A button that copies `value` to the clipboard and says so (for passwords shown once). */
import { html, LitElement } from 'lit';
import { shared } from '../styles/theme.ts';

export class McmCopyButton extends LitElement {
  static override styles = [shared];
  static override properties = { value: {}, label: {}, copied: { state: true } };
  declare value: string;
  declare label: string;
  declare copied: boolean;

  constructor() {
    super();
    this.value = '';
    this.label = 'Copy';
    this.copied = false;
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.value);
      this.copied = true;
    } catch {
      // No clipboard permission (plain HTTP, some browsers): select the text for a manual copy.
      this.copied = false;
      this.dispatchEvent(new CustomEvent('copy-failed', { bubbles: true, composed: true }));
    }
  }

  override render() {
    return html`<button type="button" @click=${() => this.copy()} aria-live="polite">${this.copied ? 'Copied' : this.label}</button>`;
  }
}
customElements.define('mcm-copy-button', McmCopyButton);
