/** Collections come in pages (`?limit=&cursor=`, at most 1000, DESIGN §8); the CLI wants all of it. */
import type { ApiClient } from './api-client.ts';

type Page<T> = { items: T[]; next?: string | null };

export const allPages = async <T>(api: ApiClient, path: string, query: Record<string, string> = {}): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | null | undefined;
  do {
    const q = new URLSearchParams({ ...query, limit: '1000', ...(cursor ? { cursor } : {}) });
    const page = (await api.request('GET', `${path}?${q.toString()}`)).body as Page<T>;
    items.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return items;
};
