import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

export const WEBHOOK_SECRET = "whsec_local_development_only";
export const SCREENSHOTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
mkdirSync(SCREENSHOTS, { recursive: true });

/** The same formatting as the console (src/format.ts), to compare the page with API numbers. */
const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });
export const credits = (n: number) => fmt.format(n);

export async function token(request: APIRequestContext, role: "owner" | "admin" | "metering", accountId?: string) {
  const res = await request.post("/local/token", { data: { role, accountId } });
  expect(res.status()).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

export class Client {
  constructor(
    private readonly request: APIRequestContext,
    private readonly bearer: string,
  ) {}
  static async as(request: APIRequestContext, role: "owner" | "admin" | "metering", accountId?: string) {
    return new Client(request, await token(request, role, accountId));
  }
  async get<T = any>(path: string): Promise<T> {
    const res = await this.request.get(path, { headers: { authorization: `Bearer ${this.bearer}` } });
    expect(res.status(), `GET ${path}: ${await res.text()}`).toBe(200);
    return (await res.json()) as T;
  }
  async send(method: "POST" | "PUT", path: string, body: unknown) {
    const res = await this.request.fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.bearer}`, "content-type": "application/json" },
      data: JSON.stringify(body),
    });
    return { status: res.status(), body: await res.json().catch(() => null) };
  }
}

/** A fresh account with a grant and some usage of both features. */
export async function freshAccount(
  request: APIRequestContext,
  prefix: string,
  opts: { grant?: number; softLimit?: number; usage?: number } = {},
) {
  const id = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = await Client.as(request, "admin");
  const created = await admin.send("POST", "/v1/accounts", { accountId: id, softLimit: opts.softLimit ?? 2 });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  if ((opts.grant ?? 10) > 0) {
    const g = await admin.send("POST", `/v1/accounts/${id}/grants`, { credits: opts.grant ?? 10, reason: "e2e welcome", grantId: `welcome-${id}` });
    expect(g.status).toBe(201);
  }
  const meter = await Client.as(request, "metering");
  for (let i = 0; i < (opts.usage ?? 4); i++) {
    const ev =
      i % 2 === 0
        ? { eventId: `${id}-ai-${i}`, type: "ai_tokens", model: "gpt-4o-mini", inputTokens: 1200 + i, outputTokens: 350 }
        : { eventId: `${id}-wu-${i}`, type: "workload_units", units: 3 + i };
    const r = await meter.send("POST", `/v1/accounts/${id}/usage`, ev);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  return id;
}

/** Signs in through the local sign-in screen, as a person would. */
export async function signIn(page: Page, accountId: string, role: "owner" | "admin" = "owner", path = "/") {
  await page.goto(path);
  await page.getByRole("button", { name: "Refresh account list" }).click();
  await page.getByLabel("Account", { exact: true }).selectOption(accountId);
  await page.getByRole("radio", { name: role === "owner" ? /Owner of this account/ : /Platform admin/ }).check();
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-account")).toHaveText(accountId);
  await expect(page.getByTestId("summary-balance")).toBeVisible();
}

/** Stripe's signature scheme: HMAC-SHA256 over `${t}.${body}` with the endpoint secret. */
export async function sendWebhook(request: APIRequestContext, event: object) {
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", WEBHOOK_SECRET).update(`${t}.${body}`).digest("hex");
  const res = await request.post("/v1/stripe/webhook", {
    headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
    data: body,
  });
  return { status: res.status(), body: await res.json() };
}

export async function expectNoSeriousA11yViolations(page: Page, place: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.help} -> ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  expect(summary, `axe on ${place}`).toEqual([]);
  return results;
}

/** Presses Tab until the locator has focus (at most `max` times): proves it is reachable by keyboard. */
export async function tabTo(page: Page, target: Locator, max = 40, key = "Tab") {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(key);
  }
  await expect(target, `reachable with ${key}`).toBeFocused();
}

export async function shot(page: Page, name: string, fullPage = false) {
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), fullPage, animations: "disabled" });
}
