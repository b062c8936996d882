/**
 * Runs in the page (page.evaluate): the elements that stick out past the right edge of the
 * viewport, and the scroll boxes or clipping containers whose content is wider than they are,
 * across every shadow root (issue 16). Plain JavaScript: the tests' TypeScript has no DOM types.
 */
export type LayoutProblems = { scrollWidth: number; viewport: number; offenders: string[] };

export const LAYOUT_PROBE = `(() => {
  const vw = document.documentElement.clientWidth;
  const offenders = [];
  const clipsX = (el) => {
    const o = getComputedStyle(el).overflowX;
    return o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip';
  };
  const describe = (el, right) => {
    const path = [];
    let n = el;
    for (let i = 0; n && i < 4; i++) {
      if (n instanceof Element) path.unshift(\`\${n.tagName.toLowerCase()}\${n.id ? \`#\${n.id}\` : ''}\${n.classList.length ? \`.\${[...n.classList].slice(0, 2).join('.')}\` : ''}\`);
      n = n.parentNode instanceof ShadowRoot ? n.parentNode.host : n.parentNode;
    }
    return \`\${path.join(' > ')} (right edge \${Math.round(right)} px)\`;
  };
  const visit = (root, clipped) => {
    for (const el of root.querySelectorAll('*')) {
      // Inside a scroll box or clipping container, sticking out is that container's business.
      let inClip = clipped;
      for (let p = el.parentElement; p && !inClip; p = p.parentElement) if (clipsX(p)) inClip = true;
      if (el.shadowRoot) visit(el.shadowRoot, inClip || clipsX(el));
      if (inClip) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.right > vw + 1) offenders.push(describe(el, r.right));
    }
  };
  visit(document, false);
  // A scroll box or clipping container whose content is wider than itself: a table that scrolls
  // sideways inside the page, or content cut off without an ellipsis. Payloads (<pre>) may scroll.
  const boxes = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) boxes(el.shadowRoot);
      if (!(el instanceof HTMLElement) || el.tagName === 'PRE' || el.closest('pre')) continue;
      const cs = getComputedStyle(el);
      if (!clipsX(el) || cs.textOverflow === 'ellipsis') continue;
      // Visually hidden on purpose (.sr-only, a stacked table's header): 1 px, clipped.
      if (el.clientWidth <= 1 || cs.clip !== 'auto') continue;
      if (el.scrollWidth > el.clientWidth + 1) offenders.push(\`\${describe(el, el.getBoundingClientRect().right)} holds \${el.scrollWidth} px in \${el.clientWidth} px (overflow-x \${cs.overflowX})\`);
    }
  };
  boxes(document);
  return { scrollWidth: document.scrollingElement?.scrollWidth ?? 0, viewport: vw, offenders: offenders.slice(0, 12) };
})()`;
