/**
 * The shell: login when signed out; otherwise a header (live connection, user, theme, sign out),
 * the navigation (only what the user's role may see) and the current route's screen. Routing is
 * the History API; the server answers index.html for every UI path. Any 401 or a ws close with
 * 4401 ends the session (services.ts) and brings the login back with the reason.
 */
import { css, html, LitElement } from 'lit';
import { unsafeStatic, html as staticHtml } from 'lit/static-html.js';
import { API_BASE } from '../data/api-client.ts';
import { roleAtLeast } from '../data/roles.ts';
import type { SessionData, SessionUser } from '../data/session.ts';
import { shared } from '../styles/theme.ts';
import { routeFor, UI_ROUTES } from './routes.ts';
import { createBrowserServices, type Notice, type Services } from './services.ts';
import '../screens/mcm-login.ts';
import '../components/adoption-banner.ts';

const THEME_KEY = 'mcm.theme';

export class McmApp extends LitElement {
  static override styles = [shared, css`
    :host { display: block; min-height: 100vh; }
    header { display: flex; align-items: center; gap: .8rem; padding: .55rem 1rem; background: var(--bg-raised); border-bottom: 1px solid var(--border); position: sticky; top: 0; z-index: 5; }
    .brand { font-weight: 700; letter-spacing: .02em; text-decoration: none; color: var(--fg); }
    .layout { display: grid; grid-template-columns: 12rem 1fr; min-height: calc(100vh - 3rem); }
    nav { border-right: 1px solid var(--border); padding: .75rem .5rem; background: var(--bg-raised); }
    nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .15rem; }
    nav a { display: block; padding: .4rem .65rem; border-radius: 6px; color: var(--fg); text-decoration: none; }
    nav a:hover { background: var(--bg-hover); }
    nav a[aria-current='page'] { background: var(--accent); color: var(--on-accent); }
    main { padding: 1rem 1.25rem 3rem; min-width: 0; }
    .dot { width: .6rem; height: .6rem; border-radius: 50%; display: inline-block; background: var(--fg-muted); }
    .dot.open { background: var(--ok); }
    .dot.connecting { background: var(--warn); }
    /* Issue 16: a notice never covers controls: it sits in the page's flow, above the screen. */
    .notice { margin: 0 0 .75rem; }
    .menu-toggle { display: none; }
    /* Narrow screens (issue 16): the navigation folds into a menu button above the page. */
    @media (max-width: 760px) {
      .layout { grid-template-columns: minmax(0, 1fr); }
      nav { border-right: none; border-bottom: 1px solid var(--border); padding: .4rem .75rem; }
      .menu-toggle { display: inline-block; }
      nav ul { display: none; margin-top: .4rem; }
      nav.open ul { display: flex; }
    }
  `];

  static override properties = { session: { state: true }, path: { state: true }, reason: { state: true }, notice: { state: true }, liveState: { state: true }, menuOpen: { state: true } };
  /** Narrow screens: whether the navigation menu is unfolded. */
  declare menuOpen: boolean;
  declare session: SessionData | null;
  declare path: string;
  declare reason: string;
  declare notice: Notice | null;
  declare liveState: string;
  private readonly services: Services;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    super();
    this.services = createBrowserServices({ navigate: (p) => this.navigate(p), notify: (n) => this.notify(n) });
    this.session = this.services.session.current();
    this.path = window.location.pathname;
    this.reason = '';
    this.notice = null;
    this.liveState = 'closed';
    this.menuOpen = false;
    const saved = window.localStorage.getItem(THEME_KEY);
    if (saved === 'light' || saved === 'dark') document.documentElement.dataset['theme'] = saved;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.onPop);
    this.services.session.onChange((data, reason) => {
      this.session = data;
      if (data === null) {
        this.services.live.stop();
        this.reason = reason ?? '';
      } else {
        this.reason = '';
        this.services.live.start();
      }
    });
    this.services.live.onState((s) => { this.liveState = s; });
    if (this.session) {
      this.services.live.start();
      // The role may have changed since the token was issued: ask the server.
      void this.services.api.get<SessionUser>('/auth/me').then((me) => this.services.session.setUser({ username: me.username, role: me.role, mfa_enabled: me.mfa_enabled })).catch(() => {});
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.onPop);
  }

  private readonly onPop = () => { this.path = window.location.pathname; };

  navigate(path: string): void {
    if (path !== window.location.pathname + window.location.search) {
      window.history.pushState(null, '', path);
      // Screens that read the URL (the topic explorer's selection) listen to popstate; pushState
      // doesn't fire it, so a nav click to the current screen tells them here.
      window.dispatchEvent(new PopStateEvent('popstate'));
    }
    this.path = window.location.pathname;
    this.menuOpen = false; // a page was chosen: fold the narrow screen's menu again
    window.scrollTo(0, 0);
  }

  private notify(n: Notice): void {
    this.notice = n;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { this.notice = null; }, n.kind === 'error' ? 10_000 : 4000);
  }

  private onNavClick(e: MouseEvent): void {
    const a = (e.composedPath().find((n) => n instanceof HTMLAnchorElement) ?? null) as HTMLAnchorElement | null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    this.navigate(a.getAttribute('href') ?? '/');
  }

  private toggleTheme(): void {
    const root = document.documentElement;
    const dark = root.dataset['theme'] ? root.dataset['theme'] === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
    root.dataset['theme'] = dark ? 'light' : 'dark';
    window.localStorage.setItem(THEME_KEY, root.dataset['theme']);
  }

  private async logout(): Promise<void> {
    const token = this.services.session.token();
    this.services.session.clear('You signed out.');
    // Then the server ends that session too (POST /auth/logout): its token is refused from now on.
    // Cleared first, so requests still in flight with the token don't report a revoked session.
    if (token) await window.fetch(`${API_BASE}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, keepalive: true }).catch(() => {});
  }

  private renderScreen() {
    const route = routeFor(this.path);
    if (!route) return html`<h1>Not found</h1><p>No page at <code>${this.path}</code>. <a href="/" @click=${(e: MouseEvent) => this.onNavClick(e)}>Go to the dashboard</a>.</p>`;
    const role = this.session?.user.role;
    if (!roleAtLeast(role, route.minRole)) return html`<h1>${route.label}</h1><p class="banner warn">This page needs the ${route.minRole} role (you are ${role}).</p>`;
    const tag = unsafeStatic(route.tag);
    return staticHtml`<${tag} .services=${this.services}></${tag}>`;
  }

  override render() {
    const n = this.notice ? html`<div class="notice banner ${this.notice.kind}" role=${this.notice.kind === 'error' ? 'alert' : 'status'}>${this.notice.text}</div>` : '';
    if (!this.session) return html`<mcm-login .services=${this.services} .reason=${this.reason}></mcm-login>${n}`;
    const user = this.session.user;
    const current = routeFor(this.path)?.path;
    return html`
      <header>
        <a class="brand" href="/" @click=${(e: MouseEvent) => this.onNavClick(e)}>MCM</a>
        <span class="muted small" title="live connection to the server: ${this.liveState}"><span class="dot ${this.liveState}" aria-hidden="true"></span> live ${this.liveState}</span>
        <span class="spacer"></span>
        <span class="small"><strong>${user.username}</strong> <span class="badge" data-role=${user.role}>${user.role}</span></span>
        <button type="button" @click=${() => this.toggleTheme()} aria-label="Toggle light and dark theme">Theme</button>
        <button type="button" @click=${() => this.logout()}>Sign out</button>
      </header>
      <div class="layout">
        <nav aria-label="Main" class=${this.menuOpen ? 'open' : ''} @click=${(e: MouseEvent) => this.onNavClick(e)}>
          <button type="button" class="menu-toggle" aria-controls="main-nav-list" aria-expanded=${this.menuOpen ? 'true' : 'false'}
            @click=${() => { this.menuOpen = !this.menuOpen; }}>Menu${current ? html` · ${routeFor(current)?.label}` : ''}</button>
          <ul id="main-nav-list">
            ${UI_ROUTES.filter((r) => roleAtLeast(user.role, r.minRole)).map((r) => html`<li><a href=${r.path} aria-current=${r.path === current ? 'page' : 'false'}>${r.label}</a></li>`)}
          </ul>
        </nav>
        <main id="main">${n}<mcm-adoption-banner .services=${this.services} .path=${current ?? this.path}></mcm-adoption-banner>${this.renderScreen()}</main>
      </div>`;
  }
}
customElements.define('mcm-app', McmApp);
