/** ui/app/routes.ts: every client route has a registered screen, and paths resolve to routes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { routeFor, UI_ROUTES } from '../../ui/app/routes.ts';

describe('ui routes', () => {
  it('resolves the first path segment; unknown paths are null', () => {
    assert.equal(routeFor('/')?.tag, 'mcm-dashboard');
    assert.equal(routeFor('/topics/plant%2Fline1')?.tag, 'mcm-topics');
    assert.equal(routeFor('/users')?.minRole, 'auditor');
    assert.equal(routeFor('/nope'), null);
  });

  it('every route tag is defined by a screen module imported by ui/screens/index.ts', () => {
    const index = readFileSync(new URL('../../ui/screens/index.ts', import.meta.url), 'utf8');
    for (const r of UI_ROUTES) {
      assert.match(index, new RegExp(`import '\\./${r.tag}\\.ts';`), r.tag);
      const src = readFileSync(new URL(`../../ui/screens/${r.tag}.ts`, import.meta.url), 'utf8');
      assert.match(src, new RegExp(`customElements\\.define\\('${r.tag}'`), r.tag);
    }
  });
});
