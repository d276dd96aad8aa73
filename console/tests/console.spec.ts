import { expect, test, type Page } from "@playwright/test";
import {
  Client,
  credits,
  expectNoSeriousA11yViolations,
  freshAccount,
  sendWebhook,
  shot,
  signIn,
  tabTo,
  token,
} from "./helpers";

// The demo account (DEMO=1: six weeks of usage, top-ups, a soft-limit crossing) for the read-only places;
// fresh accounts for everything that changes data.
const DEMO = "demo";

type Summary = {
  from: string;
  to: string;
  totals: { credits: number; aiTokens: { credits: number }; workloadUnits: { credits: number } };
  days: { date: string; credits: number; aiTokens: { credits: number }; workloadUnits: { credits: number } }[];
};

async function rangeOnPage(page: Page) {
  const label = await page.getByTestId("range-label").innerText();
  const m = /^(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})/.exec(label);
  expect(m, label).not.toBeNull();
  return { from: m![1], to: m![2] };
}

async function expectOverviewMatchesApi(page: Page, owner: Client, accountId: string) {
  const { from, to } = await rangeOnPage(page);
  const api = await owner.get<Summary>(`/v1/accounts/${accountId}/usage/summary?from=${from}&to=${to}`);
  await expect(page.getByTestId("total-credits")).toContainText(credits(api.totals.credits));
  await expect(page.getByTestId("total-ai")).toContainText(credits(api.totals.aiTokens.credits));
  await expect(page.getByTestId("total-wu")).toContainText(credits(api.totals.workloadUnits.credits));
  // the table behind the chart: one row per day, the same numbers
  const rows = page.getByTestId("days-table").locator("tbody tr");
  await expect(rows).toHaveCount(api.days.length);
  const onPage = await rows.evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("th,td")).map((c) => c.textContent ?? "")),
  );
  expect(onPage).toEqual(
    api.days.map((d) => [d.date, credits(d.aiTokens.credits), credits(d.workloadUnits.credits), credits(d.credits)]),
  );
  // the chart itself: one bar per day with spend, per feature, and a tick per shown day label
  const chart = page.getByTestId("usage-chart");
  const bars = chart.locator(".recharts-bar-rectangles");
  await expect(bars).toHaveCount(2);
  const nonZero = (f: (d: Summary["days"][number]) => number) => api.days.filter((d) => f(d) > 0).length;
  await expect(bars.nth(0).locator("path.recharts-rectangle")).toHaveCount(nonZero((d) => d.aiTokens.credits));
  await expect(bars.nth(1).locator("path.recharts-rectangle")).toHaveCount(nonZero((d) => d.workloadUnits.credits));
  return api;
}

test("sign in as an owner on the local sign-in screen; the summary shows the account's balance and limits", async ({ page, request }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in to Billing" })).toBeVisible();
  await page.getByLabel("Account", { exact: true }).selectOption(DEMO);
  await shot(page, "sign-in");
  await expectNoSeriousA11yViolations(page, "local sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/billing\/overview$/);
  const owner = await Client.as(request, "owner", DEMO);
  const account = await owner.get(`/v1/accounts/${DEMO}`);
  await expect(page.getByTestId("summary-balance")).toContainText(credits(account.balance));
  await expect(page.getByTestId("summary-soft")).toContainText(credits(account.softLimit));
  await expect(page.getByTestId("summary-hard")).toContainText(credits(account.hardLimit));
  await expect(page.getByTestId("summary-status")).toContainText("Active");
  // a reload keeps the local choice (not the token) and signs in again
  await page.reload();
  await expect(page.getByTestId("signed-in-account")).toHaveText(DEMO);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toMatch(/eyJ/); // no JWT kept in web storage
});

test("Usage Overview: the chart and totals match the API summary over 7, 30, 90 days and a custom range", async ({ page, request }) => {
  const owner = await Client.as(request, "owner", DEMO);
  await signIn(page, DEMO);
  await expect(page.getByRole("heading", { name: "Usage Overview", level: 1 })).toBeVisible();
  await expect(page.getByTestId("summary-balance")).toBeVisible();

  const thirty = await expectOverviewMatchesApi(page, owner, DEMO);
  expect(thirty.days).toHaveLength(30);
  expect(thirty.totals.credits).toBeGreaterThan(0);
  await expect(page.getByTestId("balance-gauge")).toContainText("soft limit");
  await shot(page, "usage-overview", true);
  await expectNoSeriousA11yViolations(page, "Usage Overview");

  for (const n of [7, 90]) {
    await page.getByRole("radio", { name: `Last ${n} days` }).check();
    await expect(page).toHaveURL(new RegExp(`range=${n}`));
    await expect(page.getByTestId("days-table").locator("tbody tr")).toHaveCount(n);
    const api = await expectOverviewMatchesApi(page, owner, DEMO);
    expect(api.days).toHaveLength(n);
  }

  await page.getByRole("radio", { name: "Custom" }).check();
  const to = thirty.days[thirty.days.length - 8].date;
  const from = thirty.days[thirty.days.length - 21].date;
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To (inclusive)").fill(to);
  await page.getByRole("button", { name: "Show range" }).click();
  await expect(page.getByTestId("range-label")).toContainText(`${from} to ${to} (14 days)`);
  await expect(page.getByTestId("days-table").locator("tbody tr")).toHaveCount(14);
  await expectOverviewMatchesApi(page, owner, DEMO);
});

test("Usage History: scrolling loads the second page by cursor and the rows match the API; filters by type", async ({ page, request }) => {
  const owner = await Client.as(request, "owner", DEMO);
  const p1 = await owner.get(`/v1/accounts/${DEMO}/usage?limit=50`);
  const p2 = await owner.get(`/v1/accounts/${DEMO}/usage?limit=50&cursor=${encodeURIComponent(p1.nextCursor)}`);
  expect(p2.items.length).toBe(50);

  await signIn(page, DEMO);
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Usage History" }).click();
  const rows = page.getByTestId("history-row");
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId("history-status")).toHaveAttribute("data-pages", "1");
  await shot(page, "usage-history");
  await expectNoSeriousA11yViolations(page, "Usage History");

  // scroll to the end of the list: the next page comes by cursor
  await page.mouse.wheel(0, 100_000);
  await expect(rows).toHaveCount(100);
  await expect(page.getByTestId("history-status")).toHaveAttribute("data-pages", "2");
  const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-entry-id")));
  expect(ids).toEqual([...p1.items, ...p2.items].map((e: { entryId: string }) => e.entryId));

  // each charge says what, how many, the rates and the price-book version
  const usage = [...p1.items, ...p2.items].find((e: { type: string }) => e.type === "ai_tokens");
  const row = page.locator(`[data-entry-id="${usage.entryId}"]`);
  await expect(row).toContainText(usage.model);
  await expect(row).toContainText(`${usage.inputTokens.toLocaleString("en-US")} input tokens × ${credits(usage.rates.inputPer1M)} credits/1M`);
  await expect(row).toContainText(`${usage.outputTokens.toLocaleString("en-US")} output tokens × ${credits(usage.rates.outputPer1M)} credits/1M`);
  await expect(row).toContainText(`price book ${usage.priceBookVersion}`);
  await expect(row).toContainText(`−${credits(usage.charged)}`);
  const wu = [...p1.items, ...p2.items].find((e: { type: string }) => e.type === "workload_units");
  await expect(page.locator(`[data-entry-id="${wu.entryId}"]`)).toContainText(`${wu.units.toLocaleString("en-US")} ${wu.unit} units × ${credits(wu.rates.perUnit)} credits/unit`);

  // filter: top-ups only, with their Stripe ids
  const topups = await owner.get(`/v1/accounts/${DEMO}/usage?limit=50&type=topup`);
  expect(topups.items.length).toBeGreaterThan(0);
  await page.getByRole("checkbox", { name: "Top-up" }).check();
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/type=topup/);
  await expect(rows).toHaveCount(topups.items.length);
  for (const t of topups.items) {
    const r = page.locator(`[data-entry-id="${t.entryId}"]`);
    await expect(r).toContainText("Top-up");
    await expect(r).toContainText(t.references.checkoutSession);
    await expect(r).toContainText(t.references.paymentIntent);
    await expect(r).toContainText(`+${credits(t.amount)}`);
  }
  await shot(page, "usage-history-topups");

  // a date range: only that day's entries
  const day = p1.items[0].recordedAt.slice(0, 10);
  const dayApi = await owner.get(`/v1/accounts/${DEMO}/usage?limit=50&from=${day}&to=${day}`);
  await page.getByRole("button", { name: "Clear" }).click();
  await page.getByLabel("From (UTC day)").fill(day);
  await page.getByLabel("To (UTC day, inclusive)").fill(day);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(rows).toHaveCount(dayApi.items.length);
});

test("Set Credit Limit: an invalid limit shows the API's field error and changes nothing; a valid one is stored", async ({ page, request }) => {
  const id = await freshAccount(request, "e2e-limits", { grant: 10, softLimit: 2 });
  const owner = await Client.as(request, "owner", id);
  const before = await owner.get(`/v1/accounts/${id}`);
  await signIn(page, id);

  // from the Overview
  await page.getByRole("main").getByRole("button", { name: "Set credit limit" }).click();
  const dialog = page.getByRole("dialog", { name: "Set Credit Limit" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Soft limit (credits)").fill("-1");
  await dialog.getByRole("button", { name: "Save limits" }).click();
  await expect(dialog.getByTestId("error-softLimit")).toHaveText("'softLimit' must not be negative");
  await expect(dialog.getByLabel("Soft limit (credits)")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.getByLabel("Soft limit (credits)")).toBeFocused();

  await dialog.getByLabel("Soft limit (credits)").fill("3");
  await dialog.getByLabel("Hard limit (credits)").fill("5");
  await dialog.getByRole("button", { name: "Save limits" }).click();
  await expect(dialog.getByTestId("error-softLimit")).toHaveText("'softLimit' must be above the hard limit");

  await dialog.getByLabel("Hard limit (credits)").fill("1");
  await dialog.getByLabel("Alert email").fill("not-an-email");
  await dialog.getByRole("button", { name: "Save limits" }).click();
  await expect(dialog.getByTestId("error-alertEmail")).toHaveText("'alertEmail' must be an email address");
  await expect(dialog.getByTestId("error-softLimit")).toHaveCount(0);
  await shot(page, "set-credit-limit-error");
  await expectNoSeriousA11yViolations(page, "Set Credit Limit (with an error)");

  // nothing changed
  const unchanged = await owner.get(`/v1/accounts/${id}`);
  expect({ ...unchanged, updatedAt: 0 }).toEqual({ ...before, updatedAt: 0 });
  expect(unchanged.updatedAt).toBe(before.updatedAt);

  // a valid one is stored and shown
  await dialog.getByLabel("Soft limit (credits)").fill("3.25");
  await dialog.getByLabel("Alert email").fill("ops@example.com");
  await dialog.getByRole("button", { name: "Save limits" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("limits-saved")).toHaveText("Credit limits saved.");
  await expect(page.getByTestId("summary-soft")).toContainText("3.25 credits");
  await expect(page.getByTestId("summary-hard")).toContainText("1 credits");
  const after = await owner.get(`/v1/accounts/${id}`);
  expect(after.softLimit).toBe(3.25);
  expect(after.hardLimit).toBe(1);
  expect(after.alertEmail).toBe("ops@example.com");

  // and from the History, with the stored values filled in
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Usage History" }).click();
  await page.getByRole("main").getByRole("button", { name: "Set credit limit" }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Soft limit (credits)")).toHaveValue("3.25");
  await expect(dialog.getByLabel("Hard limit (credits)")).toHaveValue("1");
  await shot(page, "set-credit-limit");
  await expectNoSeriousA11yViolations(page, "Set Credit Limit");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("main").getByRole("button", { name: "Set credit limit" })).toBeFocused();
});

test("Top Up: Buy Now reaches the Checkout URL from stripe-mock; the signed webhook makes the new balance appear without a reload", async ({ page, request }) => {
  const id = await freshAccount(request, "e2e-topup", { grant: 10 });
  const owner = await Client.as(request, "owner", id);
  const options = await owner.get(`/v1/topups/options`);
  await signIn(page, id);
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Top Up" }).click();
  await expect(page.getByRole("heading", { name: "Top Up", level: 1 })).toBeVisible();

  // presets with prices; a custom amount is checked against the configured minimum and maximum
  for (const p of options.presets) {
    await expect(page.getByRole("radio", { name: new RegExp(`^${p.toLocaleString("en-US")} credits`) })).toBeVisible();
  }
  await page.getByRole("radio", { name: "Custom amount" }).check();
  await page.getByLabel("Credits to buy").fill(String(options.minCredits - 1));
  await expect(page.getByText(`The minimum is ${options.minCredits} credits.`)).toBeVisible();
  await page.getByLabel("Credits to buy").fill("40");
  await expect(page.getByTestId("topup-price")).toHaveText(`You pay $${((40 * options.unitAmount) / 100).toFixed(2)} for 40 credits.`);
  await page.getByRole("radio", { name: /^25 credits/ }).check();
  await expect(page.getByTestId("topup-price")).toHaveText(`You pay $${((25 * options.unitAmount) / 100).toFixed(2)} for 25 credits.`);
  await shot(page, "top-up");
  await expectNoSeriousA11yViolations(page, "Top Up");

  // Buy Now -> the Checkout URL the API returned (from stripe-mock). The browser must not really load Stripe:
  // the navigation is answered by a stand-in page.
  const checkoutUrls: string[] = [];
  await page.route("https://checkout.stripe.com/**", (route) => {
    checkoutUrls.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/html", body: "<title>Stripe Checkout (stand-in)</title><h1>Checkout</h1>" });
  });
  // the API's answer is passed through unchanged; the test keeps a copy to compare with where the page goes
  let checkout: { url: string; checkoutSessionId: string; amount: number; currency: string } | null = null;
  await page.route(`**/v1/accounts/${id}/topups`, async (route) => {
    const response = await route.fetch();
    checkout = await response.json();
    await route.fulfill({ response });
  });
  await page.getByRole("button", { name: "Buy Now" }).click();
  await page.waitForURL(/^https:\/\/checkout\.stripe\.com\//);
  expect(checkout).not.toBeNull();
  checkout = checkout!;
  expect(page.url()).toBe(checkout.url);
  expect(checkout.amount).toBe(25 * options.unitAmount);
  expect(checkoutUrls).toEqual([checkout.url]);

  // Stripe sends the customer back to the success URL
  const before = (await owner.get(`/v1/accounts/${id}`)).balance as number;
  await page.goto(`/billing/topup/return?session_id=${checkout.checkoutSessionId}`);
  await expect(page.getByTestId("topup-return-status")).toContainText("Payment received, credits arriving");
  await expect(page.getByTestId("signed-in-account")).toHaveText(id);
  await shot(page, "top-up-return-waiting");
  await expectNoSeriousA11yViolations(page, "Top Up return (waiting)");
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

  const event = {
    id: `evt_${checkout.checkoutSessionId}`,
    object: "event",
    type: "checkout.session.completed",
    data: {
      object: {
        id: checkout.checkoutSessionId,
        object: "checkout.session",
        mode: "payment",
        payment_status: "paid",
        amount_total: checkout.amount,
        currency: checkout.currency,
        client_reference_id: id,
        metadata: { accountId: id, credits: "25" },
        payment_intent: `pi_${id.replace(/-/g, "_")}`,
      },
    },
  };
  const hook = await sendWebhook(request, event);
  expect(hook.status).toBe(200);
  expect(hook.body.result).toMatch(/credited 25 credits/);

  const expected = credits(Math.round((before + 25) * 1e6) / 1e6);
  await expect(page.getByTestId("topup-new-balance")).toHaveText(`${expected} credits`);
  await expect(page.getByTestId("topup-credited")).toHaveText("25 credits");
  await expect(page.getByTestId("summary-balance")).toContainText(expected);
  expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  await shot(page, "top-up-return-credited");
  await expectNoSeriousA11yViolations(page, "Top Up return (credited)");

  // the top-up shows in the History with its Stripe ids
  await page.getByRole("link", { name: "Top-ups in the history" }).click();
  const row = page.locator(`[data-entry-id="topup#${checkout.checkoutSessionId}"]`);
  await expect(row).toContainText(checkout.checkoutSessionId);
  await expect(row).toContainText(event.data.object.payment_intent);

  // a cancelled payment says so and changes nothing
  const now = (await owner.get(`/v1/accounts/${id}`)).balance;
  await page.goto("/billing/topup/cancelled");
  await expect(page.getByTestId("topup-cancelled")).toContainText("Nothing was charged and no credits were added");
  await expect(page.getByTestId("topup-cancelled")).toContainText(`${credits(now)} credits`);
  await shot(page, "top-up-cancelled");
  await expectNoSeriousA11yViolations(page, "Top Up cancelled");
  expect((await owner.get(`/v1/accounts/${id}`)).balance).toBe(now);
});

test("another account's data is never shown, and no request names it", async ({ page, request }) => {
  const a = await freshAccount(request, "e2e-a", { grant: 7, usage: 4 });
  const b = await freshAccount(request, "e2e-b", { grant: 9, usage: 6 });
  const apiPaths: string[] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/v1/")) apiPaths.push(u.pathname);
  });

  await signIn(page, a);
  await expect(page.getByTestId("days-table").locator("tbody tr").first()).toBeAttached();
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Usage History" }).click();
  await expect(page.getByTestId("history-row")).toHaveCount(5); // grant + 4 usage
  await expect(page.locator("body")).not.toContainText(b);
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Top Up" }).click();
  await expect(page.getByTestId("topup-price")).toBeVisible();
  expect(apiPaths.length).toBeGreaterThan(3);
  for (const p of apiPaths) {
    if (p.startsWith("/v1/accounts/")) expect(p.startsWith(`/v1/accounts/${a}`), p).toBe(true);
  }

  // the owner of A cannot read B, even by asking the API directly with the console's token
  const aToken = await token(request, "owner", a);
  const denied = await request.get(`/v1/accounts/${b}/usage`, { headers: { authorization: `Bearer ${aToken}` } });
  expect(denied.status()).toBe(403);

  // sign out, sign in as B: nothing of A remains on the page
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Billing" })).toBeVisible();
  apiPaths.length = 0;
  await page.getByRole("button", { name: "Refresh account list" }).click();
  await page.getByLabel("Account", { exact: true }).selectOption(b);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-account")).toHaveText(b);
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Usage History" }).click();
  await expect(page.getByTestId("history-row")).toHaveCount(7); // grant + 6 usage
  await expect(page.locator("body")).not.toContainText(a);
  for (const p of apiPaths) {
    if (p.startsWith("/v1/accounts/")) expect(p.startsWith(`/v1/accounts/${b}`), p).toBe(true);
  }
});

test("a hard-limit stop shows a banner with the way out; a closed account is read-only and says why", async ({ page, request }) => {
  // stopped: a hard limit above the balance
  const stopped = await freshAccount(request, "e2e-stop", { grant: 1, usage: 0, softLimit: 5 });
  const admin = await Client.as(request, "admin");
  expect((await admin.send("PUT", `/v1/accounts/${stopped}/limits`, { hardLimit: 1 })).status).toBe(200);
  await signIn(page, stopped);
  const banner = page.getByTestId("stop-banner");
  await expect(banner).toContainText("Usage stopped: the hard limit is reached");
  await expect(banner.getByRole("link", { name: "Top up credits" })).toBeVisible();
  await expect(banner.getByRole("button", { name: "Lower the hard limit" })).toBeVisible();
  await expect(page.getByTestId("summary-status")).toContainText("Usage stopped");
  await shot(page, "usage-stopped");
  await expectNoSeriousA11yViolations(page, "Usage stopped banner");
  await banner.getByRole("button", { name: "Lower the hard limit" }).click();
  const dialog = page.getByRole("dialog", { name: "Set Credit Limit" });
  await dialog.getByLabel("Hard limit (credits)").fill("0");
  await dialog.getByRole("button", { name: "Save limits" }).click();
  await expect(banner).toBeHidden();
  await expect(page.getByTestId("summary-status")).toContainText("Active");

  // closed: read-only, with why
  const closed = await freshAccount(request, "e2e-closed", { grant: 3, usage: 2 });
  expect((await admin.send("POST", `/v1/accounts/${closed}/close`, {})).status).toBe(200);
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, closed);
  await expect(page.getByTestId("closed-banner")).toContainText("This account is closed");
  await expect(page.getByTestId("closed-banner")).toContainText("forfeited");
  await expect(page.getByRole("navigation", { name: "Billing" }).getByRole("button", { name: "Set Credit Limit" })).toBeDisabled();
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Top Up" }).click();
  await expect(page.getByTestId("topup-closed")).toBeVisible();
  await expect(page.getByRole("button", { name: "Buy Now" })).toHaveCount(0);
  await page.getByRole("navigation", { name: "Billing" }).getByRole("link", { name: "Usage History" }).click();
  await expect(page.getByTestId("history-row").filter({ hasText: "Forfeit" })).toHaveCount(1);
  await shot(page, "closed-account");
  await expectNoSeriousA11yViolations(page, "closed account");
});

test("every control works from the keyboard", async ({ page }) => {
  await page.goto("/");
  // sign in with the keyboard only
  const account = page.getByLabel("Account", { exact: true });
  await tabTo(page, account);
  await account.selectOption(DEMO); // a <select> is keyboard operable by nature; choose the value
  await tabTo(page, page.getByRole("radio", { name: /Owner of this account/ }));
  await page.keyboard.press("Space");
  await tabTo(page, page.getByRole("button", { name: "Sign in" }));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("signed-in-account")).toHaveText(DEMO);

  // skip link, then the Billing navigation
  await expect(page.getByRole("heading", { name: "Usage Overview", level: 1 })).toBeFocused();
  const skip = page.getByRole("link", { name: "Skip to content" });
  await tabTo(page, skip, 20, "Shift+Tab");
  await page.keyboard.press("Enter");
  // focus lands on the main content (main itself, or the page heading in it)
  await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest("main"))).toBe(true);
  const nav = page.getByRole("navigation", { name: "Billing" });
  await tabTo(page, nav.getByRole("link", { name: "Usage History" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/billing\/history/);
  await expect(page.getByRole("heading", { name: "Usage History", level: 1 })).toBeFocused();
  await expect(page.getByTestId("history-row")).toHaveCount(50);

  // filters by keyboard
  await tabTo(page, page.getByRole("checkbox", { name: "Workload units" }));
  await page.keyboard.press("Space");
  await tabTo(page, page.getByRole("button", { name: "Apply filters" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/type=workload_units/);
  await expect(page.getByTestId("history-row").first()).toContainText("Workload units");
  // the next page without scrolling: the Load button
  await expect(page.getByTestId("history-row")).toHaveCount(50);
  const more = page.getByRole("button", { name: "Load older entries" });
  await more.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("history-status")).toHaveAttribute("data-pages", "2");

  // the dialog: opens with Enter, focus inside, Escape closes and focus returns
  const open = nav.getByRole("button", { name: "Set Credit Limit" });
  await open.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Set Credit Limit" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Soft limit (credits)")).toBeFocused();
  await tabTo(page, dialog.getByRole("button", { name: "Cancel" }));
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(open).toBeFocused();

  // Overview ranges with the arrow keys
  await nav.getByRole("link", { name: "Usage Overview" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Usage Overview", level: 1 })).toBeFocused();
  const thirty = page.getByRole("radio", { name: "Last 30 days" });
  await tabTo(page, thirty);
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("radio", { name: "Last 90 days" })).toBeChecked();
  await expect(page.getByTestId("days-table").locator("tbody tr")).toHaveCount(90);
  await tabTo(page, page.getByText("Daily numbers as a table"));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("days-table")).toBeVisible();

  // Top Up: presets with the arrow keys, Buy Now reachable
  await nav.getByRole("link", { name: "Top Up" }).focus();
  await page.keyboard.press("Enter");
  const preset = page.getByRole("radio", { name: /^25 credits/ });
  await expect(preset).toBeChecked();
  await tabTo(page, preset);
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("radio", { name: /^50 credits/ })).toBeChecked();
  await expect(page.getByTestId("topup-price")).toContainText("for 50 credits");
  await tabTo(page, page.getByRole("button", { name: "Buy Now" }));
});
