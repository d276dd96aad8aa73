import { Link } from "react-router";
import { useConsole } from "../context";
import { credits, utcTime } from "../format";

/** Balance, status and limits: shown above every place. */
export function AccountSummary() {
  const { account, accountError } = useConsole();
  if (!account) {
    return (
      <section className="summary" aria-label="Account summary">
        {accountError ? (
          <p role="alert" className="error">
            The account could not be loaded: {accountError.message}
          </p>
        ) : (
          <p role="status">Loading the account…</p>
        )}
      </section>
    );
  }
  const belowSoft = account.softLimit !== null && account.balance < account.softLimit;
  return (
    <section className="summary" aria-label="Account summary" data-testid="account-summary">
      <dl>
        <div>
          <dt>Balance</dt>
          <dd data-testid="summary-balance">
            <span className="big">{credits(account.balance)}</span> credits
          </dd>
        </div>
        {account.held > 0 && (
          <div>
            <dt>Held for calls in progress</dt>
            <dd data-testid="summary-held">{credits(account.held)} credits</dd>
          </div>
        )}
        <div>
          <dt>Available</dt>
          <dd data-testid="summary-available">{credits(account.available)} credits</dd>
        </div>
        <div>
          <dt>Soft limit (alert)</dt>
          <dd data-testid="summary-soft">
            {account.softLimit === null ? "not set" : `${credits(account.softLimit)} credits`}
            {belowSoft && <span className="tag tag-warn">below</span>}
          </dd>
        </div>
        <div>
          <dt>Hard limit (usage stops)</dt>
          <dd data-testid="summary-hard">{credits(account.hardLimit)} credits</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd data-testid="summary-status">
            <span className={`tag ${account.status === "ACTIVE" ? (account.usageStopped ? "tag-bad" : "tag-ok") : "tag-bad"}`}>
              {account.status === "CLOSED" ? "Closed" : account.usageStopped ? "Usage stopped" : "Active"}
            </span>
            {account.plan && <span className="muted"> · plan {account.plan}</span>}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** Closed account (read-only, why) and hard-limit stop (with the way out). */
export function Banners() {
  const { account, openLimits } = useConsole();
  if (!account) return null;
  if (account.status === "CLOSED") {
    return (
      <div className="banner banner-closed" role="region" aria-label="Account closed" data-testid="closed-banner">
        <h2>This account is closed{account.closedAt ? ` (since ${utcTime(account.closedAt)})` : ""}</h2>
        <p>
          It was closed by its owner or a platform admin. Its unused balance was forfeited when it closed (see the
          forfeit entry in the Usage History), and it accepts no usage, top-ups or grants. Everything here is
          read-only: the history and the overview stay available for your records.
        </p>
      </div>
    );
  }
  if (account.usageStopped) {
    return (
      <div className="banner banner-stop" role="alert" data-testid="stop-banner">
        <h2>Usage stopped: the hard limit is reached</h2>
        <p>
          The available balance ({credits(account.available)} credits) has reached the hard limit of{" "}
          {credits(account.hardLimit)} credits, so your app's metered calls (AI tokens, workload units) are being
          refused.{" "}
          {account.hardLimit > 0
            ? "To resume, add credits or lower the hard limit."
            : "To resume, add credits (the hard limit is already at its lowest, 0)."}
        </p>
        <p className="actions">
          <Link className="btn btn-primary" to="/billing/topup">
            Top up credits
          </Link>
          {account.hardLimit > 0 && (
            <button type="button" className="btn" onClick={openLimits}>
              Lower the hard limit
            </button>
          )}
        </p>
      </div>
    );
  }
  if (account.softLimit !== null && account.balance < account.softLimit) {
    return (
      <div className="banner banner-warn" role="region" aria-label="Balance below soft limit" data-testid="soft-banner">
        <p>
          <strong>Credits are running low.</strong> The balance ({credits(account.balance)}) is below your soft limit
          of {credits(account.softLimit)} credits. Usage continues until the hard limit of{" "}
          {credits(account.hardLimit)}. <Link to="/billing/topup">Top up</Link> to stay ahead.
        </p>
      </div>
    );
  }
  return null;
}
