// The signed-in user and tokens, kept in localStorage so a reload keeps the session.

const KEY = "mdash.session";
const listeners = new Set();
let state = load();

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

function save(next) {
  const changedUser = (state?.user?.user_id ?? null) !== (next?.user?.user_id ?? null);
  state = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  if (changedUser) listeners.forEach((fn) => fn(state?.user ?? null));
}

export const session = {
  user: () => state?.user ?? null,
  accessToken: () => state?.access_token ?? null,
  refreshToken: () => state?.refresh_token ?? null,
  /** Store a session from a register/login response's data. */
  start: (data) => save({ user: data.user, access_token: data.access_token, refresh_token: data.refresh_token }),
  setAccessToken: (token) => save({ ...state, access_token: token }),
  setUser: (user) => save({ ...state, user }),
  clear: () => save(null),
  /** Call fn(user|null) whenever a different user signs in or out; returns an unsubscribe function. */
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};
