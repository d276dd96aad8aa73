package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.accounts.AccountsHandler;
import dev.credits.local.FaultProxy.Fault;
import dev.credits.topups.TopupsHandler;
import dev.credits.usage.HoldsHandler;
import dev.credits.usage.UsageHandler;
import dev.credits.webhook.StripeWebhookHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 6, point 2: faults on the wire between the functions and DynamoDB, SNS and Stripe. Each function is built the
 * way Lambda builds it (its environment-map constructor, so {@code Clients.dynamo}'s timeouts and the SDKs' own
 * retries are the real ones), with its endpoints pointed at a {@link FaultProxy} in front of the emulator. The
 * proxy throttles, answers 500, resets connections and withholds answers, both before the request reaches the
 * emulator and after it committed there. Under every fault the caller gets the right answer or a 503 with
 * Retry-After in the spec's error shape, a retry then gets the right answer, and the books (balance, held, ledger
 * entries, day totals, alerts delivered) are exactly what one fault-free call would have left.
 *
 * <p>Faults are scheduled by count on requests naming the scenario's own account, so scenarios run side by side
 * without touching each other, and every run injects the same faults.
 */
class FaultInjectionTest {
    /** "Until cleared": more than any client's retries. */
    static final int PERSISTENT = 1_000;
    static final List<Fault> ALL = List.of(Fault.values());

    static FaultProxy dynamo;
    /** The functions' environment, with every endpoint on a proxy. */
    static Map<String, String> env;
    static final Map<String, AtomicInteger> OUTCOMES = new ConcurrentHashMap<>();

    @BeforeAll
    static void proxies() {
        dynamo = new FaultProxy("dynamodb", FaultProxy.Protocol.DYNAMODB, runner().dynamoEndpoint());
        env = new HashMap<>(runner().functionEnv());
        env.put("DYNAMODB_ENDPOINT", dynamo.endpoint());
    }

    @AfterAll
    static void summary() {
        System.out.println("FAULT-INJECTION SUMMARY: faults injected (target kind=count) " + FaultProxy.summary()
                + "; total " + FaultProxy.injectedTotal() + "; first answers " + new java.util.TreeMap<>(OUTCOMES));
        dynamo.close();
    }

    static void outcome(String key) {
        OUTCOMES.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    }

    // ------------------------------------------------------------------ HTTP functions over DynamoDB

    /**
     * One write path: how to set an account up (fault-free, through the shared runner), the request under test
     * (repeated as is by the retry), what a right answer is, and what the books must show afterwards.
     */
    record HttpCase(String name, Supplier<String> prepare, Function<String, APIGatewayV2HTTPResponse> call,
                    BiConsumer<String, APIGatewayV2HTTPResponse> right, Consumer<String> books) {}

    static void assertRetryable503(APIGatewayV2HTTPResponse r, String what) {
        assertEquals(503, r.getStatusCode(), what + ": " + r.getBody());
        String retryAfter = r.getHeaders().get("retry-after");
        assertNotNull(retryAfter, what + ": Retry-After");
        assertTrue(Integer.parseInt(retryAfter) > 0, what + ": Retry-After " + retryAfter);
        @SuppressWarnings("unchecked") Map<String, Object> error = (Map<String, Object>) ApiEvents.body(r).get("error");
        assertEquals("unavailable", error.get("code"), what);
        assertFalse(((String) error.get("message")).isBlank(), what);
    }

    static void assertAmount(String expected, Object actual, String what) {
        assertNotNull(actual, what);
        assertEquals(0, new BigDecimal(expected).compareTo((BigDecimal) actual), what + ": " + actual);
    }

    static long entries(String account, String type) {
        return get("/v1/accounts/" + account + "/usage?limit=500&type=" + type, admin()).items().size();
    }

    static void assertAccount(String account, String balance, String held) {
        Resp a = get("/v1/accounts/" + account, admin());
        assertAmount(balance, a.num("balance"), account + " balance");
        assertAmount(held, a.num("held"), account + " held");
    }

    static String hold(String holdId) {
        return "{\"holdId\":\"" + holdId + "\",\"model\":\"gpt-4o\",\"inputTokens\":20000,\"maxOutputTokens\":40000}"; // holds 0.45
    }

    static String accountWithHold() {
        String a = fundedAccount("f-hold", "1");
        Resp h = post("/v1/accounts/" + a + "/holds", metering(), hold("h-1"));
        assertEquals(201, h.status(), h.raw().body());
        return a;
    }

    static List<HttpCase> httpCases() {
        UsageHandler usage = new UsageHandler(env);
        HoldsHandler holds = new HoldsHandler(env);
        AccountsHandler accounts = new AccountsHandler(env);
        StripeWebhookHandler webhook = new StripeWebhookHandler(env);
        Map<String, String> webhookPayloads = new ConcurrentHashMap<>();
        List<HttpCase> cases = new ArrayList<>();
        cases.add(new HttpCase("usage", () -> fundedAccount("f-usage", "1"),
                a -> usage.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/usage", List.of(a), metering(), unitsEvent("e-1", 100), Map.of()), null),
                (a, r) -> {
                    assertTrue(r.getStatusCode() == 201 || (r.getStatusCode() == 200 && Boolean.TRUE.equals(ApiEvents.body(r).get("replayed"))), r.getBody());
                    assertAmount("0.01", ApiEvents.body(r).get("charged"), "charged");
                },
                a -> { assertAccount(a, "0.99", "0"); assertEquals(1, entries(a, "workload_units")); }));
        cases.add(new HttpCase("usage-batch", () -> fundedAccount("f-batch", "1"),
                a -> usage.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/usage/batch", List.of(a), metering(),
                        "{\"events\":[" + unitsEvent("b-1", 100) + "," + unitsEvent("b-2", 100) + "," + unitsEvent("b-3", 100) + "]}", Map.of()), null),
                (a, r) -> {
                    assertEquals(200, r.getStatusCode(), r.getBody());
                    @SuppressWarnings("unchecked") List<Map<String, Object>> results = (List<Map<String, Object>>) ApiEvents.body(r).get("results");
                    for (Map<String, Object> res : results) {
                        int s = ((BigDecimal) res.get("status")).intValue();
                        assertTrue(s == 201 || s == 200, r.getBody());
                    }
                    assertEquals(3, results.size());
                },
                a -> { assertAccount(a, "0.97", "0"); assertEquals(3, entries(a, "workload_units")); }));
        cases.add(new HttpCase("grant", () -> fundedAccount("f-grant", "1"),
                a -> accounts.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/grants", List.of(a), admin(),
                        "{\"credits\":5,\"reason\":\"fault test\",\"grantId\":\"g-1\"}", Map.of()), null),
                (a, r) -> assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody()),
                a -> { assertAccount(a, "6", "0"); assertEquals(2, entries(a, "grant")); }));
        cases.add(new HttpCase("hold-place", () -> fundedAccount("f-place", "1"),
                a -> holds.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/holds", List.of(a), metering(), hold("h-1"), Map.of()), null),
                (a, r) -> assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody()),
                a -> { assertAccount(a, "1", "0.45"); assertEquals(1, entries(a, "hold")); }));
        cases.add(new HttpCase("hold-capture", FaultInjectionTest::accountWithHold,
                a -> holds.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/holds/{holdId}/capture", List.of(a, "h-1"), metering(),
                        "{\"captureId\":\"c-1\",\"inputTokens\":20000,\"outputTokens\":10000}", Map.of()), null), // 0.05 + 0.10
                (a, r) -> {
                    assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody());
                    assertAmount("0.15", ApiEvents.body(r).get("charged"), "captured");
                },
                a -> { assertAccount(a, "0.85", "0.3"); assertEquals(1, entries(a, "capture")); }));
        cases.add(new HttpCase("hold-release", FaultInjectionTest::accountWithHold,
                a -> holds.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/holds/{holdId}/release", List.of(a, "h-1"), metering(), null, Map.of()), null),
                (a, r) -> assertEquals(200, r.getStatusCode(), r.getBody()),
                a -> { assertAccount(a, "1", "0"); assertEquals(1, entries(a, "release")); }));
        cases.add(new HttpCase("webhook-topup", () -> fundedAccount("f-topup", null),
                a -> {
                    // Stripe redelivers the same event (same id and body) until it gets a 2xx
                    String suffix = a.replace("-", "");
                    String payload = webhookPayloads.computeIfAbsent(a, k -> StripeEvents.session("checkout.session.completed", k,
                            "cs_test_" + suffix, "pi_" + suffix, 25, 2500, "paid"));
                    return webhook.handleRequest(ApiEvents.event("POST /v1/stripe/webhook", List.of(), null, payload,
                            Map.of("stripe-signature", StripeEvents.SIGNER.header(payload))), null);
                },
                (a, r) -> assertEquals(200, r.getStatusCode(), r.getBody()),
                a -> { assertAccount(a, "25", "0"); assertEquals(1, entries(a, "topup")); }));
        return cases;
    }

    /**
     * Every write path under every fault, once as a single fault (the SDK's own retry must absorb it: the caller sees
     * nothing) and once until cleared (the caller gets a 503 with Retry-After; the retry gets the right answer).
     */
    @Test
    void everyHttpWritePathUnderEveryDynamoDbFaultAnswersRightOr503AndKeepsTheBooks() throws Exception {
        List<HttpCase> cases = httpCases();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            List<Future<?>> runs = new ArrayList<>();
            for (HttpCase c : cases) {
                for (Fault f : ALL) {
                    for (int times : new int[]{1, PERSISTENT}) {
                        runs.add(pool.submit(() -> {
                            String what = c.name() + " under " + f.wire() + (times == 1 ? " once" : " until cleared");
                            try {
                                httpScenario(c, f, times, what);
                            } catch (Throwable t) {
                                failures.add(what + ": " + t);
                                throw t;
                            }
                            return null;
                        }));
                    }
                }
            }
            for (Future<?> r : runs) {
                try { r.get(); } catch (java.util.concurrent.ExecutionException ignored) { /* collected */ }
            }
        }
        assertEquals(List.of(), failures);
    }

    private static void httpScenario(HttpCase c, Fault f, int times, String what) {
        String account = c.prepare().get();
        FaultProxy.Rule rule = dynamo.inject(f, times, "TransactWriteItems", account);
        APIGatewayV2HTTPResponse first = c.call().apply(account);
        dynamo.clear(rule);
        assertTrue(rule.used() >= 1, what + ": the fault was injected");
        if (times == 1) {
            // one fault: the SDK's own retry absorbs it
            c.right().accept(account, first);
            outcome("dynamodb once -> right answer");
        } else {
            assertRetryable503(first, what);
            outcome("dynamodb until cleared -> 503");
        }
        // the caller's retry (after a right answer too: a duplicate delivery) gets the right answer
        APIGatewayV2HTTPResponse retry = c.call().apply(account);
        c.right().accept(account, retry);
        c.books().accept(account);
    }

    /**
     * Runs a handler as Lambda would: within the function's Timeout from template.yaml. A function still waiting on a
     * client when it runs out is stopped by Lambda, and API Gateway answers with its own error (no Retry-After, not
     * the spec's shape), so a client budget longer than the function's is a defect this makes visible.
     */
    static APIGatewayV2HTTPResponse withinTimeout(String function, Supplier<APIGatewayV2HTTPResponse> call) {
        int seconds = Template.read(Template.locate()).timeoutSeconds(function);
        try (ExecutorService one = Executors.newSingleThreadExecutor()) {
            Future<APIGatewayV2HTTPResponse> f = one.submit(call::get);
            try {
                return f.get(seconds, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                f.cancel(true);
                throw new AssertionError(function + " was still waiting when its Timeout of " + seconds
                        + "s ran out: Lambda would have stopped it and the caller got API Gateway's error, not a 503 with Retry-After");
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                throw new AssertionError(e);
            }
        }
    }

    // ------------------------------------------------------------------ Stripe (top-ups)

    /**
     * Creating a Checkout Session through stripe-java against stripe-mock, with Stripe throttling, failing, resetting
     * and not answering: the owner gets the checkout URL or a 503 with Retry-After within the function's Timeout, the
     * retry with the same topupId gets the URL, and every request that reached Stripe for that top-up carried the same
     * Idempotency-Key, so Stripe answers them all with one Checkout Session (stripe-mock keeps no state, so the key is
     * what can be checked here; Stripe's contract does the rest). Nothing is credited before the webhook.
     */
    @Test
    void topupsUnderStripeFaultsAnswerTheCheckoutOr503AndNeverOpenASecondSession() throws Exception {
        assumeTrue(stripeMock() != null, "STRIPE_MOCK_URL is not set: the test command starts stripe-mock and sets it");
        try (FaultProxy stripe = new FaultProxy("stripe", FaultProxy.Protocol.STRIPE, stripeMock())) {
            Map<String, String> e = new HashMap<>(runner().functionEnv());
            e.put("STRIPE_API_BASE", stripe.endpoint());
            TopupsHandler topups = new TopupsHandler(e);
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            try (ExecutorService pool = Executors.newFixedThreadPool(12)) {
                List<Future<?>> runs = new ArrayList<>();
                for (Fault f : List.of(Fault.THROTTLE, Fault.HTTP_500, Fault.RESET_BEFORE, Fault.RESET_AFTER, Fault.TIMEOUT_BEFORE, Fault.TIMEOUT_AFTER)) {
                    for (int times : new int[]{1, PERSISTENT}) {
                        runs.add(pool.submit(() -> {
                            String what = "topup under stripe " + f.wire() + (times == 1 ? " once" : " until cleared");
                            try {
                                topupScenario(stripe, topups, f, times, what);
                            } catch (Throwable t) {
                                failures.add(what + ": " + t);
                            }
                            return null;
                        }));
                    }
                }
                for (Future<?> r : runs) r.get();
            }
            assertEquals(List.of(), failures);
        }
    }

    private static void topupScenario(FaultProxy stripe, TopupsHandler topups, Fault f, int times, String what) {
        String account = fundedAccount("f-buy", null);
        Supplier<APIGatewayV2HTTPResponse> call = () -> withinTimeout("TopupsFunction", () -> topups.handleRequest(
                ApiEvents.event("POST /v1/accounts/{id}/topups", List.of(account), owner(account), "{\"credits\":25,\"topupId\":\"t-1\"}", Map.of()), null));
        FaultProxy.Rule rule = stripe.inject(f, times, "POST /v1/checkout/sessions", account);
        APIGatewayV2HTTPResponse first = call.get();
        stripe.clear(rule);
        assertTrue(rule.used() >= 1, what + ": the fault was injected");
        if (first.getStatusCode() == 201) {
            outcome("stripe " + (times == 1 ? "once" : "until cleared") + " -> right answer");
            assertCheckout(first, what);
        } else {
            assertRetryable503(first, what);
            outcome("stripe " + (times == 1 ? "once" : "until cleared") + " -> 503");
        }
        if (times == PERSISTENT) assertEquals(503, first.getStatusCode(), what + ": Stripe never answered, so no URL");
        APIGatewayV2HTTPResponse retry = call.get();
        assertEquals(201, retry.getStatusCode(), what + ": the retry: " + retry.getBody());
        assertCheckout(retry, what);
        List<String> keys = stripe.forwarded("POST /v1/checkout/sessions", account).stream()
                .map(r -> r.headers().get("idempotency-key")).distinct().toList();
        assertEquals(1, keys.size(), what + ": one Idempotency-Key for one top-up: " + keys);
        assertNotNull(keys.get(0), what + ": requests carry an Idempotency-Key");
        assertEquals(0, balance(account).signum(), what + ": nothing credited before Stripe confirms the payment");
    }

    private static void assertCheckout(APIGatewayV2HTTPResponse r, String what) {
        Map<String, Object> b = ApiEvents.body(r);
        assertTrue(((String) b.get("checkoutSessionId")).startsWith("cs_"), what + ": " + r.getBody());
        assertTrue(((String) b.get("url")).startsWith("https://"), what + ": " + r.getBody());
        assertAmount("2500", b.get("amount"), what + ": amount");
    }
}
