import { useEffect, useId, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { ApiError, type Account, type Summary } from "../api";
import { useConsole } from "../context";
import { addDays, count, credits, daysBetween, todayUtc } from "../format";

const PRESETS = [7, 30, 90] as const;
const AI_COLOR = "#2f5fd0";
const WU_COLOR = "#c2571a";

type Range = { kind: "7" | "30" | "90" | "custom"; from: string; to: string };

function rangeFrom(params: URLSearchParams): Range {
  const today = todayUtc();
  const kind = params.get("range");
  if (kind === "custom") {
    const from = params.get("from") ?? addDays(today, -29);
    const to = params.get("to") ?? today;
    return { kind, from, to };
  }
  const n = kind === "7" || kind === "90" ? Number(kind) : 30;
  return { kind: String(n) as Range["kind"], from: addDays(today, -(n - 1)), to: today };
}

export function Overview() {
  const { api, session, account, openLimits } = useConsole();
  const [params, setParams] = useSearchParams();
  const urlRange = rangeFrom(params);
  // the chosen kind is also kept locally so the radio answers at once (the URL update is a transition)
  const [kind, setKind] = useState<Range["kind"]>(urlRange.kind);
  useEffect(() => setKind(urlRange.kind), [urlRange.kind]);
  const range = { ...urlRange, kind };
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [customFrom, setCustomFrom] = useState(range.from);
  const [customTo, setCustomTo] = useState(range.to);
  const [customError, setCustomError] = useState<string | null>(null);
  const ids = { from: useId(), to: useId(), err: useId(), table: useId() };

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    api
      .summary(session.accountId, range.from, range.to)
      .then((s) => {
        if (!live) return;
        if (s.accountId !== undefined && s.accountId !== session.accountId) throw new Error("another account");
        setSummary(s);
      })
      .catch((e) => live && setError(e instanceof ApiError ? e.message : String(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, session.accountId, range.from, range.to]);

  const choose = (kind: Range["kind"]) => {
    setKind(kind);
    if (kind === "custom") {
      setParams({ range: "custom", from: customFrom, to: customTo });
    } else {
      setParams({ range: kind });
    }
  };

  const applyCustom = (e: FormEvent) => {
    e.preventDefault();
    if (!customFrom || !customTo) return setCustomError("Enter both dates.");
    if (customFrom > customTo) return setCustomError("The start date must be on or before the end date.");
    if (daysBetween(customFrom, customTo) > 366) return setCustomError("Choose at most 366 days.");
    setCustomError(null);
    setParams({ range: "custom", from: customFrom, to: customTo });
  };

  const closed = account?.status === "CLOSED";

  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Usage Overview
        </h1>
        <div className="actions">
          <button type="button" className="btn" onClick={openLimits} disabled={closed} aria-haspopup="dialog">
            Set credit limit
          </button>
          {!closed && (
            <Link to="/billing/topup" className="btn btn-primary">
              Top up
            </Link>
          )}
        </div>
      </div>

      {account && <BalanceGauge account={account} />}

      <div className="card">
        <fieldset className="range">
          <legend>Range (UTC days)</legend>
          <div className="segmented">
            {PRESETS.map((n) => (
              <label key={n} className={range.kind === String(n) ? "on" : ""}>
                <input
                  type="radio"
                  name="range"
                  value={n}
                  checked={range.kind === String(n)}
                  onChange={() => choose(String(n) as Range["kind"])}
                />
                Last {n} days
              </label>
            ))}
            <label className={range.kind === "custom" ? "on" : ""}>
              <input type="radio" name="range" value="custom" checked={range.kind === "custom"} onChange={() => choose("custom")} />
              Custom
            </label>
          </div>
        </fieldset>
        {range.kind === "custom" && (
          <form className="inline-form" onSubmit={applyCustom} noValidate>
            <div className="field">
              <label htmlFor={ids.from}>From</label>
              <input id={ids.from} type="date" value={customFrom} onChange={(e) => setCustomFrom(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={ids.to}>To (inclusive)</label>
              <input id={ids.to} type="date" value={customTo} onChange={(e) => setCustomTo(e.target.value)} />
            </div>
            <button type="submit" className="btn">
              Show range
            </button>
            {customError && (
              <p className="field-error" role="alert" id={ids.err}>
                {customError}
              </p>
            )}
          </form>
        )}
        <p className="muted" data-testid="range-label">
          {range.from} to {range.to} ({daysBetween(range.from, range.to)} days)
        </p>

        {error && (
          <p role="alert" className="error">
            The overview could not be loaded: {error}
          </p>
        )}
        <p role="status" className="sr-only">
          {loading ? "Loading the overview…" : summary ? `Overview loaded for ${summary.from} to ${summary.to}.` : ""}
        </p>
        {summary && (
          <div aria-busy={loading} className={loading ? "stale" : ""}>
            <Totals summary={summary} />
            <figure className="chart" data-testid="usage-chart">
              <figcaption>
                <h2>Daily credits spent, by feature</h2>
              </figcaption>
              <div
                role="img"
                aria-label={`Bar chart of credits spent per day from ${summary.from} to ${summary.to}: ${credits(summary.totals.aiTokens.credits)} on AI tokens and ${credits(summary.totals.workloadUnits.credits)} on workload units. The same numbers are in the table below.`}
              >
                <ResponsiveContainer width="100%" height={320}>
                  <BarChart data={summary.days} margin={{ top: 8, right: 16, bottom: 8, left: 8 }} accessibilityLayer={false}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="date" tickFormatter={(d: string) => d.slice(5)} minTickGap={16} />
                    <YAxis tickFormatter={(v: number) => credits(v)} width={72} />
                    <Tooltip
                      formatter={(v) => `${credits(Number(v))} credits`}
                      labelFormatter={(d) => `${String(d)} (UTC)`}
                    />
                    <Legend />
                    <Bar dataKey="aiTokens.credits" name="AI tokens" stackId="spend" fill={AI_COLOR} isAnimationActive={false} />
                    <Bar
                      dataKey="workloadUnits.credits"
                      name="Workload units"
                      stackId="spend"
                      fill={WU_COLOR}
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </div>
            </figure>
            <details className="table-details">
              <summary>Daily numbers as a table</summary>
              <DaysTable summary={summary} />
            </details>
          </div>
        )}
      </div>
    </section>
  );
}

function Totals({ summary }: { summary: Summary }) {
  const t = summary.totals;
  return (
    <div className="totals" data-testid="totals">
      <div className="total">
        <h2>Total spent</h2>
        <p className="big" data-testid="total-credits">
          {credits(t.credits)} <span className="unit">credits</span>
        </p>
      </div>
      <div className="total">
        <h2>
          <span className="swatch" style={{ background: AI_COLOR }} aria-hidden="true" /> AI tokens
        </h2>
        <p className="big" data-testid="total-ai">
          {credits(t.aiTokens.credits)} <span className="unit">credits</span>
        </p>
        <p className="muted">
          {count(t.aiTokens.inputTokens)} input · {count(t.aiTokens.outputTokens)} output tokens · {count(t.aiTokens.events)}{" "}
          calls
        </p>
      </div>
      <div className="total">
        <h2>
          <span className="swatch" style={{ background: WU_COLOR }} aria-hidden="true" /> Workload units
        </h2>
        <p className="big" data-testid="total-wu">
          {credits(t.workloadUnits.credits)} <span className="unit">credits</span>
        </p>
        <p className="muted">
          {count(t.workloadUnits.units)} units · {count(t.workloadUnits.events)} events
        </p>
      </div>
    </div>
  );
}

function DaysTable({ summary }: { summary: Summary }) {
  return (
    <table className="data" data-testid="days-table">
      <caption className="sr-only">Credits spent per UTC day</caption>
      <thead>
        <tr>
          <th scope="col">Day (UTC)</th>
          <th scope="col" className="num">
            AI tokens (credits)
          </th>
          <th scope="col" className="num">
            Workload units (credits)
          </th>
          <th scope="col" className="num">
            Total (credits)
          </th>
        </tr>
      </thead>
      <tbody>
        {summary.days.map((d) => (
          <tr key={d.date} data-date={d.date}>
            <th scope="row">{d.date}</th>
            <td className="num">{credits(d.aiTokens.credits)}</td>
            <td className="num">{credits(d.workloadUnits.credits)}</td>
            <td className="num">{credits(d.credits)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The balance against the soft and hard limits, as a horizontal bar with the two limits marked. */
function BalanceGauge({ account }: { account: Account }) {
  const soft = account.softLimit;
  const max = Math.max(account.balance, soft ?? 0, account.hardLimit, 1) * 1.15;
  const data = [{ name: "Balance", available: Math.max(0, account.available), held: account.held }];
  const headroomSoft = soft === null ? null : account.balance - soft;
  const headroomHard = account.available - account.hardLimit;
  return (
    <div className="card gauge" data-testid="balance-gauge">
      <h2>Balance against your limits</h2>
      <p>
        <strong>{credits(account.balance)} credits</strong>
        {soft !== null && (
          <>
            {" · "}
            {headroomSoft! >= 0
              ? `${credits(headroomSoft!)} above the soft limit (${credits(soft)})`
              : `${credits(-headroomSoft!)} below the soft limit (${credits(soft)})`}
          </>
        )}
        {" · "}
        {headroomHard > 0
          ? `${credits(headroomHard)} available before usage stops at the hard limit (${credits(account.hardLimit)})`
          : `usage is stopped at the hard limit (${credits(account.hardLimit)})`}
      </p>
      <div role="img" aria-label={`Balance ${credits(account.balance)} credits; soft limit ${soft === null ? "not set" : credits(soft)}; hard limit ${credits(account.hardLimit)}.`}>
        <ResponsiveContainer width="100%" height={90}>
          <BarChart data={data} layout="vertical" margin={{ top: 22, right: 32, bottom: 0, left: 32 }} accessibilityLayer={false}>
            <XAxis type="number" domain={[0, max]} tickFormatter={(v: number) => credits(Math.round(v))} />
            <YAxis type="category" dataKey="name" hide />
            <Bar dataKey="available" name="Available" stackId="b" fill="#1d7f4e" isAnimationActive={false} />
            <Bar dataKey="held" name="Held" stackId="b" fill="#8fb9a3" isAnimationActive={false} />
            {soft !== null && (
              <ReferenceLine
                x={soft}
                stroke="#9a6700"
                strokeWidth={2}
                strokeDasharray="4 3"
                label={{ value: `soft ${credits(soft)}`, position: "top", fill: "#6b4800", fontSize: 12 }}
              />
            )}
            <ReferenceLine
              x={account.hardLimit}
              stroke="#b42318"
              strokeWidth={2}
              label={{ value: `hard ${credits(account.hardLimit)}`, position: "top", fill: "#8a1c12", fontSize: 12 }}
            />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}
