/**
 * Subscribes a Lit element to live message types for as long as it is connected (DESIGN §7), and
 * re-renders it on each one. Unsubscribes on disconnect, so a screen left behind costs nothing.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LiveClient, LiveMessage, LiveState } from '../data/live-client.ts';

export class LiveController implements ReactiveController {
  private readonly host: ReactiveControllerHost;
  private readonly live: () => LiveClient | undefined;
  private readonly handlers: Record<string, (m: LiveMessage) => void>;
  private readonly onResume: ((lastSeq: number | null) => void) | undefined;
  private offs: (() => void)[] = [];
  state: LiveState = 'closed';

  constructor(
    host: ReactiveControllerHost,
    live: () => LiveClient | undefined,
    handlers: Record<string, (m: LiveMessage) => void>,
    onResume?: (lastSeq: number | null) => void,
  ) {
    this.host = host;
    this.live = live;
    this.handlers = handlers;
    this.onResume = onResume;
    host.addController(this);
  }

  hostConnected(): void {
    const live = this.live();
    if (!live) return;
    this.state = live.state();
    this.offs = Object.entries(this.handlers).map(([type, fn]) => live.on(type, (m) => { fn(m); this.host.requestUpdate(); }));
    this.offs.push(live.onState((s) => { this.state = s; this.host.requestUpdate(); }));
    if (this.onResume) this.offs.push(live.onResume(this.onResume));
  }

  hostDisconnected(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }
}
