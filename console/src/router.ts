/** Hash routes (`#/campaigns/<id>/draft`): the API serves one page, and links work offline. */
import { useEffect, useState } from 'preact/hooks';

export const TABS = ['draft', 'live', 'versions', 'history', 'runs', 'reports'] as const;
export type Tab = (typeof TABS)[number];

export type Route = { page: 'list' } | { page: 'campaign'; id: string; tab?: Tab };

export function parse(hash: string): Route {
  const match = /^#\/campaigns\/([0-9a-f-]{36})(?:\/(\w+))?$/.exec(hash);
  if (!match) return { page: 'list' };
  const tab = (TABS as readonly string[]).includes(match[2] ?? '') ? (match[2] as Tab) : undefined;
  return { page: 'campaign', id: match[1], tab };
}

export const campaignHref = (id: string, tab?: Tab) => `#/campaigns/${id}${tab ? `/${tab}` : ''}`;

export function navigate(href: string): void {
  window.location.hash = href;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
