import { useId, useState, type FormEvent } from "react";
import { localSignIn, type LocalAccount, type Role, type Session } from "../auth";

/**
 * The local runner's sign-in: pick an account and a role; the runner mints the same token as `make token`.
 * This screen exists only when GET /local/accounts answers, i.e. never on a deployed console.
 */
export function LocalSignIn({
  accounts,
  onSignedIn,
  onReload,
}: {
  accounts: LocalAccount[];
  onSignedIn: (s: Session) => void;
  onReload: () => Promise<void>;
}) {
  const [accountId, setAccountId] = useState(accounts[0]?.accountId ?? "");
  const [role, setRole] = useState<Role>("owner");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { account: useId(), role: useId(), help: useId() };
  const chosen = accounts.some((a) => a.accountId === accountId) ? accountId : (accounts[0]?.accountId ?? "");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await localSignIn(chosen, role));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <div className="card signin-card">
        <h1>Sign in to Billing</h1>
        <p className="notice" id={ids.help}>
          <strong>Local runner.</strong> This sign-in exists only on your machine: pick an account and a role, and the
          runner issues the same token as <code>make token</code>. Deployed, the console signs in with your
          organisation's identity provider.
        </p>
        {accounts.length === 0 ? (
          <div>
            <p>
              There are no accounts yet. Create one with the admin token (see the README), or start the runner with{" "}
              <code>DEMO=1 make run</code> for a demo account with six weeks of usage.
            </p>
            <button type="button" className="btn" onClick={() => void onReload()}>
              Check again
            </button>
          </div>
        ) : (
          <form onSubmit={submit} aria-describedby={ids.help}>
            <div className="field">
              <label htmlFor={ids.account}>Account</label>
              <select id={ids.account} value={chosen} onChange={(e) => setAccountId(e.target.value)}>
                {accounts.map((a) => (
                  <option key={a.accountId} value={a.accountId}>
                    {a.accountId}
                    {a.status === "CLOSED" ? " (closed)" : ""}
                  </option>
                ))}
              </select>
            </div>
            <fieldset className="field">
              <legend>Role</legend>
              <label className="radio">
                <input type="radio" name="role" value="owner" checked={role === "owner"} onChange={() => setRole("owner")} />
                Owner of this account <span className="muted">(sees only this account; can top up)</span>
              </label>
              <label className="radio">
                <input type="radio" name="role" value="admin" checked={role === "admin"} onChange={() => setRole("admin")} />
                Platform admin <span className="muted">(views this account; cannot buy credits for it)</span>
              </label>
            </fieldset>
            {error && (
              <p role="alert" className="error">
                {error}
              </p>
            )}
            <div className="actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>
                Sign in
              </button>
              <button type="button" className="btn btn-quiet" onClick={() => void onReload()}>
                Refresh account list
              </button>
            </div>
          </form>
        )}
      </div>
    </main>
  );
}
