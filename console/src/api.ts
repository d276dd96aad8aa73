// The API of ../shared/SPEC.md, as this console uses it. Same origin: /v1/... with a Bearer token.

export type Account = {
  accountId: string;
  status: "ACTIVE" | "CLOSED";
  balance: number;
  held: number;
  available: number;
  hardLimit: number;
  softLimit: number | null;
  spendable: number;
  usageStopped: boolean;
  alertEmail: string | null;
  plan: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
};

export type EntryType =
  | "ai_tokens"
  | "workload_units"
  | "grant"
  | "forfeit"
  | "topup"
  | "plan_credit"
  | "clawback"
  | "hold"
  | "capture"
  | "release";

export type LedgerEntry = {
  entryId: string;
  type: EntryType;
  amount: number;
  recordedAt: string;
  occurredAt?: string;
  eventId?: string;
  charged?: number;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  unit?: string;
  units?: number;
  rates?: Record<string, number>;
  priceBookVersion?: string;
  reason?: string;
  references?: Record<string, string>;
};

export type HistoryPage = { accountId: string; items: LedgerEntry[]; nextCursor: string | null };

export type FeatureTotals = {
  credits: number;
  aiTokens: { credits: number; inputTokens: number; outputTokens: number; events: number };
  workloadUnits: { credits: number; units: number; events: number };
};
export type Day = FeatureTotals & { date: string };
export type Summary = { accountId: string; from: string; to: string; totals: FeatureTotals; days: Day[] };

export type TopupOptions = {
  currency: string;
  unitAmount: number;
  minCredits: number;
  maxCredits: number;
  presets: number[];
};
export type Checkout = { checkoutSessionId: string; url: string; credits: number; amount: number; currency: string };

/** An error answered by the API in its one shape, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export type TokenSource = () => Promise<string | null>;

export class Api {
  constructor(private readonly token: TokenSource) {}

  private async call<T>(method: string, path: string, body?: string): Promise<T> {
    const token = await this.token();
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body, cache: "no-store" });
    } catch {
      throw new ApiError(0, "network", "The service could not be reached. Check your connection and try again.");
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
      throw new ApiError(
        res.status,
        e?.code ?? (res.status === 401 ? "unauthenticated" : "http_" + res.status),
        e?.message ?? (res.status === 401 ? "Your sign-in has expired. Sign in again." : `The service answered ${res.status}.`),
        e?.field,
      );
    }
    return json as T;
  }

  private static id(accountId: string) {
    return encodeURIComponent(accountId);
  }

  account(accountId: string) {
    return this.call<Account>("GET", `/v1/accounts/${Api.id(accountId)}`);
  }

  history(accountId: string, q: { limit?: number; cursor?: string | null; type?: string[]; from?: string; to?: string }) {
    const p = new URLSearchParams();
    if (q.limit) p.set("limit", String(q.limit));
    if (q.cursor) p.set("cursor", q.cursor);
    if (q.type && q.type.length) p.set("type", q.type.join(","));
    if (q.from) p.set("from", q.from);
    if (q.to) p.set("to", q.to);
    return this.call<HistoryPage>("GET", `/v1/accounts/${Api.id(accountId)}/usage?${p}`);
  }

  summary(accountId: string, from: string, to: string) {
    const p = new URLSearchParams({ from, to });
    return this.call<Summary>("GET", `/v1/accounts/${Api.id(accountId)}/usage/summary?${p}`);
  }

  /**
   * Sets limits. Each value is the text the owner typed: a decimal is sent as a JSON number literal exactly as
   * typed (no float rounding on the way), an empty field as null (clears it), anything else as a string so the
   * API names the field in its 400.
   */
  setLimits(accountId: string, fields: { softLimit?: string; hardLimit?: string; alertEmail?: string }) {
    const parts: string[] = [];
    const decimal = /^-?\d+(\.\d+)?$/;
    for (const key of ["softLimit", "hardLimit"] as const) {
      const raw = fields[key];
      if (raw === undefined) continue;
      const v = raw.trim();
      parts.push(`${JSON.stringify(key)}:${v === "" ? "null" : decimal.test(v) ? v : JSON.stringify(v)}`);
    }
    if (fields.alertEmail !== undefined) {
      const v = fields.alertEmail.trim();
      parts.push(`"alertEmail":${v === "" ? "null" : JSON.stringify(v)}`);
    }
    return this.call<Account>("PUT", `/v1/accounts/${Api.id(accountId)}/limits`, `{${parts.join(",")}}`);
  }

  topupOptions() {
    return this.call<TopupOptions>("GET", `/v1/topups/options`);
  }

  startTopup(accountId: string, credits: number, topupId: string) {
    return this.call<Checkout>(
      "POST",
      `/v1/accounts/${Api.id(accountId)}/topups`,
      JSON.stringify({ credits, topupId }),
    );
  }
}
