import { reactive } from 'vue';

/** The manager's token, kept for this browser tab only (sessionStorage): closing the tab logs out. */
const KEY = 'branch-hub.token';

export const session = reactive({
  token: sessionStorage.getItem(KEY),
  /** Why the login form is shown again, if the hub sent us there. */
  expired: false,
});

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
  session.expired = false;
  session.token = token;
}

export function signOut(expired = false): void {
  sessionStorage.removeItem(KEY);
  session.expired = expired;
  session.token = null;
}
