/** The signed-in key: kept in sessionStorage only (gone when the tab closes), never in localStorage. */
import { Api, type Me } from './api';

const KEY = 'campaign-console.key';

export interface Session {
  api: Api;
  me: Me;
  can(permission: 'read' | 'edit' | 'publish' | 'admin'): boolean;
}

function session(api: Api, me: Me): Session {
  return { api, me, can: (permission) => me.permissions.includes(permission) };
}

/** Checks `key` against GET /v1/me and keeps it for this browser session. */
export async function signIn(key: string): Promise<Session> {
  const api = new Api(key.trim());
  const me = await api.me();
  sessionStorage.setItem(KEY, key.trim());
  return session(api, me);
}

/** The session kept by an earlier sign-in in this tab, if its key still works. */
export async function resume(): Promise<Session | undefined> {
  const key = sessionStorage.getItem(KEY);
  if (!key) return undefined;
  try {
    return await signIn(key);
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
