// Sign-in. Two modes, chosen at runtime:
//  - local: the local runner answers GET /local/accounts; a person picks an account and a role, and the runner
//    mints the same token as `make token`. Only the choice (account, role) is kept in sessionStorage so a
//    return from Stripe Checkout signs in again; the token itself lives in memory.
//  - oidc (deployed): authorization code + PKCE with oidc-client-ts against the issuer the API's JWT authorizer
//    trusts, configured by /console-config.json. The user (and its tokens) is kept in memory only
//    (InMemoryWebStorage); sessionStorage holds only the short-lived sign-in request state (PKCE verifier),
//    which must survive the redirect to the identity provider.
import { InMemoryWebStorage, UserManager, WebStorageStateStore, type User } from "oidc-client-ts";

export type Role = "owner" | "admin";

export type Session = {
  mode: "local" | "oidc";
  accountId: string;
  role: Role;
  /** who is signed in, for the header */
  label: string;
  token: () => Promise<string | null>;
  signOut: () => Promise<void>;
};

export type LocalAccount = { accountId: string; status: string };

export type ConsoleConfig = {
  issuer: string;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri?: string;
  scope?: string;
  accountClaim?: string;
};

export type Boot =
  | { kind: "local"; accounts: LocalAccount[]; session: Session | null }
  | { kind: "oidc"; session: Session }
  | { kind: "redirecting" }
  | { kind: "error"; message: string };

const LOCAL_CHOICE = "credits-console.local-choice";
export const CALLBACK_PATH = "/auth/callback";

async function localAccounts(): Promise<LocalAccount[] | null> {
  try {
    const res = await fetch("/local/accounts", { cache: "no-store", headers: { accept: "application/json" } });
    if (res.status !== 200 || !(res.headers.get("content-type") ?? "").includes("json")) return null;
    const body = (await res.json()) as { accounts?: LocalAccount[] };
    return Array.isArray(body.accounts) ? body.accounts : null;
  } catch {
    return null;
  }
}

export async function listLocalAccounts(): Promise<LocalAccount[]> {
  return (await localAccounts()) ?? [];
}

export async function localSignIn(accountId: string, role: Role): Promise<Session> {
  const res = await fetch("/local/token", {
    method: "POST",
    cache: "no-store",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ role, accountId }),
  });
  if (!res.ok) throw new Error(`The local runner refused the sign-in (${res.status}).`);
  const { token } = (await res.json()) as { token: string };
  sessionStorage.setItem(LOCAL_CHOICE, JSON.stringify({ accountId, role }));
  return {
    mode: "local",
    accountId,
    role,
    label: role === "owner" ? `owner of ${accountId}` : "platform admin",
    token: async () => token,
    signOut: async () => {
      sessionStorage.removeItem(LOCAL_CHOICE);
    },
  };
}

function savedLocalChoice(): { accountId: string; role: Role } | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(LOCAL_CHOICE) ?? "null") as { accountId?: unknown; role?: unknown } | null;
    if (v && typeof v.accountId === "string" && (v.role === "owner" || v.role === "admin")) {
      return { accountId: v.accountId, role: v.role };
    }
  } catch {
    /* ignore a damaged entry */
  }
  return null;
}

function oidcSession(mgr: UserManager, user: User, claim: string): Session | string {
  const accountId = user.profile[claim];
  if (typeof accountId !== "string" || accountId === "") {
    return `Your sign-in carries no '${claim}' claim, so the console cannot tell which account is yours. Ask your administrator to add it to the ID token.`;
  }
  let current: User | null = user;
  mgr.events.addUserLoaded((u) => {
    current = u;
  });
  mgr.events.addUserUnloaded(() => {
    current = null;
  });
  return {
    mode: "oidc",
    accountId,
    role: "owner",
    label: (user.profile.email as string | undefined) ?? (user.profile.name as string | undefined) ?? `owner of ${accountId}`,
    token: async () => {
      if (current && !current.expired) return current.access_token;
      // expired and not renewed (no refresh token): sign in again by redirect, back to this page
      await mgr.signinRedirect({ state: { returnTo: window.location.pathname + window.location.search } });
      return null;
    },
    signOut: async () => {
      await mgr.removeUser();
      try {
        await mgr.signoutRedirect();
      } catch {
        window.location.assign("/");
      }
    },
  };
}

export async function boot(): Promise<Boot> {
  const accounts = await localAccounts();
  if (accounts) {
    const choice = savedLocalChoice();
    let session: Session | null = null;
    if (choice && accounts.some((a) => a.accountId === choice.accountId)) {
      try {
        session = await localSignIn(choice.accountId, choice.role);
      } catch {
        session = null;
      }
    }
    return { kind: "local", accounts, session };
  }

  let config: ConsoleConfig;
  try {
    const res = await fetch("/console-config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(String(res.status));
    config = (await res.json()) as ConsoleConfig;
    if (!config.issuer || !config.clientId || !config.redirectUri) throw new Error("incomplete");
  } catch {
    return {
      kind: "error",
      message:
        "This console is not configured: /console-config.json is missing or incomplete (issuer, clientId, redirectUri). See docs/CONSOLE.md.",
    };
  }

  const mgr = new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    post_logout_redirect_uri: config.postLogoutRedirectUri ?? window.location.origin + "/",
    response_type: "code",
    scope: config.scope ?? "openid email profile",
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: true,
    loadUserInfo: false,
  });
  const claim = config.accountClaim ?? "account_id";

  try {
    let user: User | null = null;
    if (window.location.pathname === CALLBACK_PATH) {
      user = (await mgr.signinRedirectCallback()) ?? null;
      const back = (user?.state as { returnTo?: string } | undefined)?.returnTo ?? "/billing/overview";
      window.history.replaceState(null, "", back.startsWith("/") ? back : "/billing/overview");
    } else {
      user = await mgr.getUser();
    }
    if (!user || user.expired) {
      const returnTo = window.location.pathname + window.location.search;
      await mgr.signinRedirect({ state: { returnTo } });
      return { kind: "redirecting" };
    }
    const s = oidcSession(mgr, user, claim);
    return typeof s === "string" ? { kind: "error", message: s } : { kind: "oidc", session: s };
  } catch (e) {
    return { kind: "error", message: `Sign-in failed: ${(e as Error).message}. Reload the page to try again.` };
  }
}
