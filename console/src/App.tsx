import { useEffect, useState } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation } from "react-router";
import { boot, listLocalAccounts, type Boot, type LocalAccount, type Session } from "./auth";
import { ConsoleProvider, useConsole } from "./context";
import { AccountSummary, Banners } from "./components/AccountSummary";
import { LimitsDialog } from "./components/LimitsDialog";
import { LocalSignIn } from "./pages/LocalSignIn";
import { Overview } from "./pages/Overview";
import { History } from "./pages/History";
import { TopUp } from "./pages/TopUp";
import { TopUpReturn } from "./pages/TopUpReturn";
import { TopUpCancelled } from "./pages/TopUpCancelled";

export function App() {
  const [state, setState] = useState<Boot | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [accounts, setAccounts] = useState<LocalAccount[]>([]);

  useEffect(() => {
    void boot().then((b) => {
      setState(b);
      if (b.kind === "local") {
        setAccounts(b.accounts);
        setSession(b.session);
      } else if (b.kind === "oidc") {
        setSession(b.session);
      }
    });
  }, []);

  useEffect(() => {
    document.documentElement.dataset.ready = state ? "true" : "false";
  }, [state]);

  if (!state) return <Splash text="Loading the billing console…" />;
  if (state.kind === "redirecting") return <Splash text="Signing you in…" />;
  if (state.kind === "error") return <Splash text={state.message} error />;

  if (!session) {
    return (
      <LocalSignIn
        accounts={accounts}
        onReload={async () => setAccounts(await listLocalAccounts())}
        onSignedIn={(s) => setSession(s)}
      />
    );
  }

  const signOut = async () => {
    await session.signOut();
    if (session.mode === "local") {
      window.history.replaceState(null, "", "/");
      setAccounts(await listLocalAccounts());
      setSession(null);
    }
  };

  return (
    <BrowserRouter>
      {/* keyed by account: nothing from one signed-in account survives into another's */}
      <ConsoleProvider key={`${session.mode}:${session.role}:${session.accountId}`} session={session}>
        <Shell onSignOut={signOut} />
      </ConsoleProvider>
    </BrowserRouter>
  );
}

function Splash({ text, error }: { text: string; error?: boolean }) {
  return (
    <main className="splash" id="main">
      <h1>Billing</h1>
      <p role={error ? "alert" : "status"}>{text}</p>
    </main>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const { session, openLimits, account } = useConsole();
  const location = useLocation();

  // move focus to the new page's heading on navigation, so screen reader and keyboard users land on it
  useEffect(() => {
    const h1 = document.querySelector<HTMLElement>("main h1");
    if (h1 && document.activeElement !== h1 && location.key !== "default") h1.focus();
  }, [location.pathname, location.key]);

  const closed = account?.status === "CLOSED";

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span aria-hidden="true" className="logo">
            ◆
          </span>{" "}
          Credits <span className="muted">/ Billing</span>
        </div>
        <div className="who">
          <span>
            Account <strong data-testid="signed-in-account">{session.accountId}</strong>
            <span className="muted"> · signed in as {session.label}</span>
            {session.mode === "local" && <span className="tag">local</span>}
          </span>
          <button type="button" className="btn btn-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="billing-nav" aria-label="Billing">
        <ul>
          <li>
            <NavLink to="/billing/overview">Usage Overview</NavLink>
          </li>
          <li>
            <NavLink to="/billing/history">Usage History</NavLink>
          </li>
          <li>
            <button type="button" className="navbutton" onClick={openLimits} disabled={closed} aria-haspopup="dialog">
              Set Credit Limit
            </button>
          </li>
          <li>
            <NavLink to="/billing/topup" end={false}>
              Top Up
            </NavLink>
          </li>
        </ul>
      </nav>
      <AccountSummary />
      <Banners />
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to="/billing/overview" replace />} />
          <Route path="/billing" element={<Navigate to="/billing/overview" replace />} />
          <Route path="/auth/callback" element={<Navigate to="/billing/overview" replace />} />
          <Route path="/billing/overview" element={<Overview />} />
          <Route path="/billing/history" element={<History />} />
          <Route path="/billing/topup" element={<TopUp />} />
          <Route path="/billing/topup/return" element={<TopUpReturn />} />
          <Route path="/billing/topup/cancelled" element={<TopUpCancelled />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
      <LimitsDialog />
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing here. Go to the <NavLink to="/billing/overview">Usage Overview</NavLink>.
      </p>
    </section>
  );
}
