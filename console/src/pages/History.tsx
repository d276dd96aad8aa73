import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router";
import { ApiError, type LedgerEntry } from "../api";
import { useConsole } from "../context";
import { count, credits, REFERENCE_LABELS, signedCredits, TYPE_LABELS, utcTime } from "../format";

const PAGE_SIZE = 50;
const TYPES = Object.keys(TYPE_LABELS);

type Filters = { types: string[]; from: string; to: string };

function filtersFrom(params: URLSearchParams): Filters {
  const types = (params.get("type") ?? "").split(",").filter((t) => TYPES.includes(t));
  return { types, from: params.get("from") ?? "", to: params.get("to") ?? "" };
}

export function History() {
  const { api, session, account, openLimits } = useConsole();
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const key = `${filters.types.join(",")}|${filters.from}|${filters.to}`;

  const [items, setItems] = useState<LedgerEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pages, setPages] = useState(0);
  const loadingRef = useRef(false);
  const generation = useRef(0);
  const sentinel = useRef<HTMLDivElement>(null);

  const [draft, setDraft] = useState<Filters>(filters);
  const ids = { from: useId(), to: useId(), types: useId() };

  const loadMore = useCallback(
    async (reset = false) => {
      if (loadingRef.current && !reset) return;
      const gen = reset ? ++generation.current : generation.current;
      loadingRef.current = true;
      setLoading(true);
      setError(null);
      try {
        const page = await api.history(session.accountId, {
          limit: PAGE_SIZE,
          cursor: reset ? null : cursor,
          type: filters.types,
          from: filters.from || undefined,
          to: filters.to || undefined,
        });
        if (gen !== generation.current) return;
        if (page.accountId !== undefined && page.accountId !== session.accountId) throw new Error("another account");
        setItems((prev) => (reset ? page.items : [...prev, ...page.items]));
        setCursor(page.nextCursor);
        setDone(!page.nextCursor);
        setPages((p) => (reset ? 1 : p + 1));
      } catch (e) {
        if (gen === generation.current) setError(e instanceof ApiError ? e.message : String(e));
      } finally {
        if (gen === generation.current) {
          loadingRef.current = false;
          setLoading(false);
        }
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, session.accountId, cursor, key],
  );

  // a new filter starts over from the newest entry
  useEffect(() => {
    setItems([]);
    setCursor(null);
    setDone(false);
    setDraft(filters);
    void loadMore(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, api, session.accountId]);

  // infinite scroll: the next page loads when the end of the list comes into view
  useEffect(() => {
    const el = sentinel.current;
    if (!el || done) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !loadingRef.current && cursor) void loadMore();
      },
      { rootMargin: "200px 0px" },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [cursor, done, loadMore]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next: Record<string, string> = {};
    if (draft.types.length) next.type = draft.types.join(",");
    if (draft.from) next.from = draft.from;
    if (draft.to) next.to = draft.to;
    setParams(next);
  };

  const toggle = (t: string) =>
    setDraft((d) => ({ ...d, types: d.types.includes(t) ? d.types.filter((x) => x !== t) : [...d.types, t] }));

  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Usage History
        </h1>
        <div className="actions">
          <button
            type="button"
            className="btn"
            onClick={openLimits}
            disabled={account?.status === "CLOSED"}
            aria-haspopup="dialog"
          >
            Set credit limit
          </button>
        </div>
      </div>
      <p className="muted">
        Every change to the balance, newest first. Charges show what was metered, the rates and the price-book version
        that priced them; credits show where they came from.
      </p>

      <form className="card filters" onSubmit={apply} aria-label="History filters">
        <fieldset>
          <legend id={ids.types}>Types</legend>
          <div className="checks">
            {TYPES.map((t) => (
              <label key={t} className="check">
                <input type="checkbox" name="type" value={t} checked={draft.types.includes(t)} onChange={() => toggle(t)} />
                {TYPE_LABELS[t]}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="filter-row">
          <div className="field">
            <label htmlFor={ids.from}>From (UTC day)</label>
            <input id={ids.from} type="date" value={draft.from} onChange={(e) => setDraft((d) => ({ ...d, from: e.target.value }))} />
          </div>
          <div className="field">
            <label htmlFor={ids.to}>To (UTC day, inclusive)</label>
            <input id={ids.to} type="date" value={draft.to} onChange={(e) => setDraft((d) => ({ ...d, to: e.target.value }))} />
          </div>
          <div className="actions">
            <button type="submit" className="btn btn-primary">
              Apply filters
            </button>
            <button type="button" className="btn btn-quiet" onClick={() => setParams({})}>
              Clear
            </button>
          </div>
        </div>
      </form>

      <table className="data history" data-testid="history-table">
        <caption className="sr-only">Ledger entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When (UTC)</th>
            <th scope="col">Type</th>
            <th scope="col">What and why</th>
            <th scope="col" className="num">
              Credits
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.entryId} data-entry-id={e.entryId} data-testid="history-row">
              <td className="when">{utcTime(e.recordedAt)}</td>
              <td>
                <span className={`type type-${e.type}`}>{TYPE_LABELS[e.type] ?? e.type}</span>
              </td>
              <td>{explain(e)}</td>
              <td className={`num amount ${e.amount < 0 ? "neg" : e.amount > 0 ? "pos" : ""}`}>{signedCredits(e.amount)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <div ref={sentinel} className="sentinel" aria-hidden="true" />
      <p role="status" className="list-status" data-testid="history-status" data-pages={pages} data-count={items.length}>
        {loading
          ? "Loading entries…"
          : error
            ? ""
            : items.length === 0
              ? "No entries match these filters."
              : done
                ? `All ${count(items.length)} entries shown.`
                : `${count(items.length)} entries shown; scroll for more.`}
      </p>
      {error && (
        <p role="alert" className="error">
          The history could not be loaded: {error}{" "}
          <button type="button" className="btn" onClick={() => void loadMore(items.length === 0)}>
            Try again
          </button>
        </p>
      )}
      {!done && !loading && !error && items.length > 0 && (
        <p>
          <button type="button" className="btn" onClick={() => void loadMore()}>
            Load older entries
          </button>
        </p>
      )}
    </section>
  );
}

function rate(v: number | undefined): string {
  return v === undefined ? "?" : credits(v);
}

/** What was charged and why, or where credits came from. */
export function explain(e: LedgerEntry): ReactNode {
  const pb = e.priceBookVersion ? <span className="pb">price book {e.priceBookVersion}</span> : null;
  const refs = e.references && Object.keys(e.references).length > 0 && (
    <dl className="refs">
      {Object.entries(e.references).map(([k, v]) => (
        <div key={k}>
          <dt>{REFERENCE_LABELS[k] ?? k}</dt>
          <dd>
            <code>{v}</code>
          </dd>
        </div>
      ))}
    </dl>
  );
  const reason = e.reason ? <span className="reason">{e.reason}</span> : null;
  const r = e.rates ?? {};
  const tokens =
    e.model !== undefined ? (
      <>
        <strong>{e.model}</strong>: {count(e.inputTokens)} input tokens × {rate(r.inputPer1M)} credits/1M +{" "}
        {count(e.outputTokens)} output tokens × {rate(r.outputPer1M)} credits/1M
      </>
    ) : null;
  const units =
    e.units !== undefined ? (
      <>
        <strong>
          {count(e.units)} {e.unit ?? "standard"} unit{e.units === 1 ? "" : "s"}
        </strong>{" "}
        × {rate(r.perUnit)} credits/unit
      </>
    ) : null;

  let main: ReactNode;
  switch (e.type) {
    case "ai_tokens":
      main = (
        <>
          {tokens} = {credits(e.charged ?? -e.amount)} credits (rounded up to a micro-credit)
        </>
      );
      break;
    case "workload_units":
      main = (
        <>
          {units} = {credits(e.charged ?? -e.amount)} credits
        </>
      );
      break;
    case "capture":
      main = (
        <>
          Charged from a hold: {tokens ?? units} = {credits(e.charged ?? -e.amount)} credits
        </>
      );
      break;
    case "hold":
      main = <>Reserved the worst-case cost of a call in progress{tokens || units ? <>: {tokens ?? units}</> : null}</>;
      break;
    case "release":
      main = <>Returned what a hold did not use</>;
      break;
    case "topup":
      main = <>Credits bought through Stripe Checkout</>;
      break;
    case "plan_credit":
      main = <>Credits of your plan, for a paid subscription invoice</>;
      break;
    case "grant":
      main = <>Credits added by a platform admin</>;
      break;
    case "clawback":
      main = <>Credits taken back after a refund or a dispute of their payment</>;
      break;
    case "forfeit":
      main = <>The unused balance, forfeited when the account was closed</>;
      break;
    default:
      main = <>{e.type}</>;
  }
  return (
    <div className="explain">
      <div>{main}</div>
      {(reason || pb || e.eventId) && (
        <div className="meta">
          {reason}
          {pb}
          {e.eventId && (
            <span className="eid">
              id <code>{e.eventId}</code>
            </span>
          )}
        </div>
      )}
      {refs}
    </div>
  );
}
