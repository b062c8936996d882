/**
 * A newest-first, paged list kept current by live messages (the audit log and security events):
 * `reload()` fetches the first page, `loadOlder()` the next, and `scheduleRefresh()` — called by
 * the screen when a live message could match its filters, or after a ws gap — fetches what is
 * newer than the watermark (every row with a key up to it is loaded) and prepends it. Bursts of
 * live messages coalesce into one fetch, one fetch runs at a time, and answers to an older
 * `reload()` (filters changed meanwhile) are dropped.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { appendOlder, fetchNewer, prependNewer, type Page } from '../data/audit-paging.ts';

export type PagedSource<T> = {
  /** One page, newest first; `head`, when the server tells it, is the log head the page was decided on. */
  page(cursor: string | undefined): Promise<Page<T> & { head?: number | null }>;
  /** A key that grows with time (seq, id). */
  key(row: T): number;
  errorText(err: unknown): string;
};

export class LivePagedList<T> implements ReactiveController {
  rows: T[] = [];
  next: string | null = null;
  loading = false;
  error = '';
  /** More arrived than one refresh may add: the screen offers a reload. */
  hole = false;
  /** Keys of rows that arrived live since the last reload (highlighted). */
  fresh: ReadonlySet<number> = new Set();
  /** Every matching row with a key up to this is loaded. */
  watermark = 0;

  private readonly host: ReactiveControllerHost;
  private readonly source: PagedSource<T>;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private refreshing = false;
  private refreshAgain = false;
  private generation = 0;

  constructor(host: ReactiveControllerHost, source: PagedSource<T>) {
    this.host = host;
    this.source = source;
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private set(patch: Partial<Pick<LivePagedList<T>, 'rows' | 'next' | 'loading' | 'error' | 'hole' | 'fresh'>>): void {
    Object.assign(this, patch);
    this.host.requestUpdate();
  }

  async reload(): Promise<void> {
    const gen = ++this.generation;
    this.set({ loading: true, error: '', hole: false });
    try {
      const page = await this.source.page(undefined);
      if (gen !== this.generation) return;
      const first = page.items[0];
      this.watermark = page.head ?? (first === undefined ? 0 : this.source.key(first));
      this.set({ rows: page.items, next: page.next ?? null, fresh: new Set() });
    } catch (err) {
      if (gen === this.generation) this.set({ error: this.source.errorText(err) });
    } finally {
      if (gen === this.generation) this.set({ loading: false });
    }
  }

  async loadOlder(): Promise<void> {
    const cursor = this.next;
    if (!cursor) return;
    const gen = this.generation;
    this.set({ loading: true });
    try {
      const page = await this.source.page(cursor);
      if (gen !== this.generation) return;
      this.set({ rows: appendOlder(this.rows, page.items, (r) => this.source.key(r)), next: page.next ?? null });
    } catch (err) {
      if (gen === this.generation) this.set({ error: this.source.errorText(err) });
    } finally {
      if (gen === this.generation) this.set({ loading: false });
    }
  }

  /** Coalesces a burst of live messages into one fetch. */
  scheduleRefresh(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.fetchNewRows();
    }, delay);
  }

  private async fetchNewRows(): Promise<void> {
    if (this.refreshing) { this.refreshAgain = true; return; }
    // A reload in flight decides its own watermark: look again once it is done.
    if (this.loading) { this.scheduleRefresh(300); return; }
    this.refreshing = true;
    const gen = this.generation;
    const since = this.watermark;
    try {
      let head: number | null = null;
      const newer = await fetchNewer(async (cursor) => {
        const page = await this.source.page(cursor);
        if (cursor === undefined) head = page.head ?? null;
        return page;
      }, (r) => this.source.key(r) <= since);
      if (gen !== this.generation) return;
      const newest = newer.items[0];
      this.watermark = Math.max(this.watermark, head ?? 0, newest === undefined ? 0 : this.source.key(newest));
      if (newer.items.length > 0) {
        this.set({
          rows: prependNewer(this.rows, newer.items, (r) => this.source.key(r)),
          fresh: new Set([...this.fresh, ...newer.items.map((r) => this.source.key(r))]),
        });
      }
      if (!newer.complete) this.set({ hole: true });
    } catch (err) {
      if (gen === this.generation) this.set({ error: this.source.errorText(err) });
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) { this.refreshAgain = false; this.scheduleRefresh(0); }
    }
  }
}
