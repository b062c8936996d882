/**
 * The base of every screen: the shared styles and the `services` the shell hands in. Lit
 * reactive properties are declared with `static properties` and `declare` fields (no decorators:
 * with class fields defined by the language they would shadow Lit's accessors).
 */
import { LitElement } from 'lit';
import type { Services } from './services.ts';
import { shared } from '../styles/theme.ts';

export class McmScreen extends LitElement {
  static override styles = [shared];
  static override properties = { services: { attribute: false } };
  declare services: Services;

  /** The message of an error for a banner: ApiError messages are written for people. */
  protected errorText(err: unknown): string {
    const e = err as { message?: string; code?: string };
    return e?.message ? (e.code && !e.code.startsWith('HTTP_') ? `${e.message} (${e.code})` : e.message) : String(err);
  }
}
