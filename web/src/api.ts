import type { HubConfig } from '../../src/config/config.schema.js';

/** REST, contract section 6: only login and the branches' zones and services; everything live comes by the socket. */

/** A branch as `GET /api/branches` lists it. */
export type BranchInfo = Pick<HubConfig['branches'][number], 'id' | 'name' | 'zones' | 'services'>;

export class Unauthorized extends Error {}

export type LoginResult = { token: string } | { failure: 'badCredentials' | 'unreachable' };

export async function login(username: string, password: string): Promise<LoginResult> {
  try {
    const res = await fetch('api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status === 200) return { token: ((await res.json()) as { token: string }).token };
    return { failure: res.status === 401 || res.status === 400 ? 'badCredentials' : 'unreachable' };
  } catch {
    return { failure: 'unreachable' };
  }
}

/** The manager's branches; `Unauthorized` when the token is no longer good (expired, or the hub's database is new). */
export async function fetchBranches(token: string): Promise<BranchInfo[]> {
  const res = await fetch('api/branches', { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) throw new Error(`GET /api/branches: ${res.status}`);
  return (await res.json()) as BranchInfo[];
}
