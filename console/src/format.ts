// Display formatting only: amounts arrive as JSON numbers with at most 6 fractional digits and are shown with
// Intl, never added up here (totals come from the API).

const creditsFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });
const intFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function credits(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return creditsFmt.format(n);
}

export function signedCredits(n: number): string {
  return (n > 0 ? "+" : n < 0 ? "−" : "") + creditsFmt.format(Math.abs(n));
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : intFmt.format(n);
}

/** ISO instant -> "2026-11-24 18:28 UTC" */
export function utcTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** A price in the currency's minor units (e.g. cents), formatted with the currency's own number of decimals. */
export function money(minor: number, currency: string): string {
  const code = currency.toUpperCase();
  const fmt = new Intl.NumberFormat("en-US", { style: "currency", currency: code });
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(minor / 10 ** digits);
}

/** Today's UTC date, YYYY-MM-DD (the Overview's days are UTC days). */
export function todayUtc(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86_400_000) + 1;
}

export const TYPE_LABELS: Record<string, string> = {
  ai_tokens: "AI tokens",
  workload_units: "Workload units",
  topup: "Top-up",
  plan_credit: "Plan credits",
  grant: "Grant",
  clawback: "Clawback",
  forfeit: "Forfeit",
  hold: "Hold",
  capture: "Capture",
  release: "Release",
};

export const REFERENCE_LABELS: Record<string, string> = {
  checkoutSession: "Checkout Session",
  paymentIntent: "Payment Intent",
  charge: "Charge",
  dispute: "Dispute",
  invoice: "Invoice",
  subscription: "Subscription",
  price: "Price",
  stripeEvent: "Stripe event",
  hold: "Hold",
  capture: "Capture",
  released: "Released",
};
