import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Api, ApiError, type Account } from "./api";
import type { Session } from "./auth";

type ConsoleState = {
  session: Session;
  api: Api;
  account: Account | null;
  accountError: ApiError | null;
  refreshAccount: () => Promise<Account | null>;
  /** opens the Set Credit Limit dialog */
  openLimits: () => void;
  limitsOpen: boolean;
  closeLimits: () => void;
};

const Ctx = createContext<ConsoleState | null>(null);

export function useConsole(): ConsoleState {
  const v = useContext(Ctx);
  if (!v) throw new Error("useConsole outside ConsoleProvider");
  return v;
}

/** How often the always-visible balance is refreshed while the page is open (it also refreshes on focus). */
const ACCOUNT_POLL_MS = 15_000;

export function ConsoleProvider({ session, children }: { session: Session; children: ReactNode }) {
  const api = useMemo(() => new Api(session.token), [session]);
  const [account, setAccount] = useState<Account | null>(null);
  const [accountError, setAccountError] = useState<ApiError | null>(null);
  const [limitsOpen, setLimitsOpen] = useState(false);
  const seq = useRef(0);

  const refreshAccount = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const a = await api.account(session.accountId);
      // never show an answer about another account than the one signed in (defence in depth)
      if (a.accountId !== session.accountId) throw new ApiError(403, "forbidden", "The service answered for another account.");
      if (mine === seq.current) {
        setAccount(a);
        setAccountError(null);
      }
      return a;
    } catch (e) {
      if (mine === seq.current) setAccountError(e instanceof ApiError ? e : new ApiError(0, "unknown", String(e)));
      return null;
    }
  }, [api, session.accountId]);

  useEffect(() => {
    void refreshAccount();
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") void refreshAccount();
    }, ACCOUNT_POLL_MS);
    const onFocus = () => void refreshAccount();
    window.addEventListener("focus", onFocus);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener("focus", onFocus);
    };
  }, [refreshAccount]);

  const value = useMemo<ConsoleState>(
    () => ({
      session,
      api,
      account,
      accountError,
      refreshAccount,
      openLimits: () => setLimitsOpen(true),
      limitsOpen,
      closeLimits: () => setLimitsOpen(false),
    }),
    [session, api, account, accountError, refreshAccount, limitsOpen],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
