import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import type { LedgerEntry } from "../api";
import { useConsole } from "../context";
import { credits, utcTime } from "../format";

/** Polls quickly at first (the webhook usually lands within seconds), then more slowly, until the top-up is credited. */
const FAST_MS = 1_500;
const FAST_FOR_MS = 60_000;
const SLOW_MS = 5_000;

/**
 * Stripe Checkout's success URL: /billing/topup/return?session_id={CHECKOUT_SESSION_ID}. Says the payment was
 * received and the credits are on their way, then shows the new balance as soon as the webhook has booked the
 * top-up (the ledger entry of this Checkout Session), without a reload.
 */
export function TopUpReturn() {
  const { api, session, refreshAccount } = useConsole();
  const [params] = useSearchParams();
  const sessionId = params.get("session_id") ?? "";
  const [entry, setEntry] = useState<LedgerEntry | null>(null);
  const [balance, setBalance] = useState<number | null>(null);
  const [slow, setSlow] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (!sessionId) return;
    let stopped = false;
    let timer = 0;
    const started = Date.now();
    const tick = async () => {
      try {
        const page = await api.history(session.accountId, { type: ["topup"], limit: 50 });
        const found = page.items.find(
          (e) => e.references?.checkoutSession === sessionId || e.entryId === `topup#${sessionId}`,
        );
        if (stopped) return;
        setProblem(null);
        if (found) {
          const a = await refreshAccount();
          if (stopped) return;
          setEntry(found);
          setBalance(a ? a.balance : null);
          return;
        }
      } catch (e) {
        if (!stopped) setProblem((e as Error).message);
      }
      const elapsed = Date.now() - started;
      if (elapsed > FAST_FOR_MS) setSlow(true);
      if (!stopped) timer = window.setTimeout(tick, elapsed > FAST_FOR_MS ? SLOW_MS : FAST_MS);
    };
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, session.accountId, sessionId, refreshAccount]);

  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {entry ? "Credits added" : "Payment received"}
        </h1>
      </div>
      {!sessionId ? (
        <p className="notice">
          This page is where Stripe Checkout returns after a payment, and it names no payment. See your top-ups in the{" "}
          <Link to="/billing/history?type=topup">Usage History</Link>.
        </p>
      ) : (
        <div className="card" data-testid="topup-return">
          <div role="status" aria-live="polite" data-testid="topup-return-status">
            {entry ? (
              <p className="success">
                <strong data-testid="topup-credited">{credits(entry.amount)} credits</strong> were added at{" "}
                {utcTime(entry.recordedAt)}. Your balance is now{" "}
                <strong data-testid="topup-new-balance">{balance === null ? "…" : `${credits(balance)} credits`}</strong>.
              </p>
            ) : (
              <p>
                <span className="spinner" aria-hidden="true" /> Payment received, credits arriving. They appear here as
                soon as Stripe confirms the payment; there is no need to reload.
              </p>
            )}
          </div>
          {!entry && slow && (
            <p className="hint">
              This is taking longer than usual. Some payment methods take a while to confirm; the credits land as soon
              as they do, and this page keeps checking. You can also leave: nothing is lost.
            </p>
          )}
          {problem && !entry && (
            <p className="hint">Could not check just now ({problem}); trying again.</p>
          )}
          <p className="muted">
            Checkout Session <code>{sessionId}</code>
          </p>
          <p className="actions">
            <Link to="/billing/overview" className="btn">
              Usage Overview
            </Link>
            <Link to="/billing/history?type=topup" className="btn btn-quiet">
              Top-ups in the history
            </Link>
          </p>
        </div>
      )}
    </section>
  );
}
