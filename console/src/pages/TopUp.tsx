import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { ApiError, type TopupOptions } from "../api";
import { useConsole } from "../context";
import { count, money } from "../format";

/** Where Buy Now goes: the Stripe Checkout URL. A seam so the browser tests can see it without leaving. */
export function goToCheckout(url: string) {
  window.location.assign(url);
}

export function TopUp() {
  const { api, session, account } = useConsole();
  const [options, setOptions] = useState<TopupOptions | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [choice, setChoice] = useState<string>("");
  const [custom, setCustom] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [leaving, setLeaving] = useState<string | null>(null);
  const customRef = useRef<HTMLInputElement>(null);
  // one idempotency key per amount chosen: a double click or a retry gets the same Checkout Session
  const topupId = useMemo(() => crypto.randomUUID(), [choice, custom]); // eslint-disable-line react-hooks/exhaustive-deps
  const ids = { custom: useId(), customHint: useId(), customErr: useId(), price: useId() };

  useEffect(() => {
    api
      .topupOptions()
      .then((o) => {
        setOptions(o);
        const preferred = o.presets.includes(25) ? 25 : o.presets[0];
        setChoice(preferred !== undefined ? String(preferred) : "custom");
      })
      .catch((e) => setLoadError(e instanceof ApiError ? e.message : String(e)));
  }, [api]);

  const closed = account?.status === "CLOSED";
  const isOwner = session.role === "owner";

  const creditsWanted: number | null = (() => {
    if (!options) return null;
    if (choice !== "custom") return Number(choice);
    if (!/^\d+$/.test(custom.trim())) return null;
    return Number(custom.trim());
  })();
  const customProblem: string | null = (() => {
    if (!options || choice !== "custom" || custom.trim() === "") return null;
    if (!/^\d+$/.test(custom.trim())) return "Enter a whole number of credits.";
    const n = Number(custom.trim());
    if (n < options.minCredits) return `The minimum is ${count(options.minCredits)} credits.`;
    if (n > options.maxCredits) return `The maximum is ${count(options.maxCredits)} credits.`;
    return null;
  })();
  const valid = creditsWanted !== null && customProblem === null && creditsWanted > 0;

  const buy = async (e: FormEvent) => {
    e.preventDefault();
    if (!options) return;
    if (!valid) {
      setError(customProblem ?? `Choose an amount between ${count(options.minCredits)} and ${count(options.maxCredits)} credits.`);
      customRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const checkout = await api.startTopup(session.accountId, creditsWanted!, topupId);
      setLeaving(checkout.url);
      goToCheckout(checkout.url);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Top Up
        </h1>
      </div>
      {closed ? (
        <p className="notice" data-testid="topup-closed">
          This account is closed, so it cannot buy credits. Its history stays readable.
        </p>
      ) : !isOwner ? (
        <p className="notice">
          Only the account's owner can buy credits. You are signed in as a platform admin; sign in as the owner of{" "}
          {session.accountId} to top up.
        </p>
      ) : loadError ? (
        <p role="alert" className="error">
          The top-up options could not be loaded: {loadError}
        </p>
      ) : !options ? (
        <p role="status">Loading the top-up options…</p>
      ) : (
        <form className="card topup" onSubmit={buy} noValidate>
          <fieldset>
            <legend>How many credits?</legend>
            <p className="hint">
              1 credit costs {money(options.unitAmount, options.currency)}. Credits never expire while the account is
              active.
            </p>
            <div className="presets">
              {options.presets.map((p) => (
                <label key={p} className={`preset ${choice === String(p) ? "on" : ""}`}>
                  <input
                    type="radio"
                    name="amount"
                    value={p}
                    checked={choice === String(p)}
                    onChange={() => setChoice(String(p))}
                  />
                  <span className="preset-credits">{count(p)} credits</span>
                  <span className="preset-price">{money(p * options.unitAmount, options.currency)}</span>
                </label>
              ))}
              <label className={`preset ${choice === "custom" ? "on" : ""}`}>
                <input
                  type="radio"
                  name="amount"
                  value="custom"
                  checked={choice === "custom"}
                  onChange={() => {
                    setChoice("custom");
                    window.setTimeout(() => customRef.current?.focus(), 0);
                  }}
                />
                <span className="preset-credits">Custom amount</span>
              </label>
            </div>
          </fieldset>
          {choice === "custom" && (
            <div className="field">
              <label htmlFor={ids.custom}>Credits to buy</label>
              <p className="hint" id={ids.customHint}>
                A whole number from {count(options.minCredits)} to {count(options.maxCredits)}.
              </p>
              <input
                ref={customRef}
                id={ids.custom}
                type="number"
                inputMode="numeric"
                min={options.minCredits}
                max={options.maxCredits}
                step={1}
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                aria-invalid={customProblem ? true : undefined}
                aria-describedby={`${ids.customHint}${customProblem ? ` ${ids.customErr}` : ""}`}
              />
              {customProblem && (
                <p className="field-error" id={ids.customErr}>
                  {customProblem}
                </p>
              )}
            </div>
          )}
          <div className="price" id={ids.price} aria-live="polite" data-testid="topup-price">
            {valid ? (
              <>
                You pay <strong>{money(creditsWanted! * options.unitAmount, options.currency)}</strong> for{" "}
                <strong>{count(creditsWanted!)} credits</strong>.
              </>
            ) : (
              <>Choose an amount to see the price.</>
            )}
          </div>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="btn btn-primary btn-large" disabled={busy} aria-describedby={ids.price}>
              {busy ? "Opening Stripe Checkout…" : "Buy Now"}
            </button>
          </div>
          <p className="hint">
            You pay on Stripe's secure checkout page. The credits are added as soon as Stripe confirms the payment; you
            come back here to see them arrive.
          </p>
          {leaving && (
            <p role="status" className="sr-only" data-testid="checkout-url" data-url={leaving}>
              Going to Stripe Checkout…
            </p>
          )}
        </form>
      )}
    </section>
  );
}
