package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import dev.credits.accounts.AccountsHandler;
import dev.credits.aggregator.AggregatorHandler;
import dev.credits.alerts.AlertHandler;
import dev.credits.alerts.AlertPublisher;
import dev.credits.core.json.Json;
import dev.credits.core.store.Clients;
import dev.credits.core.store.StoreConfig;
import dev.credits.local.FaultProxy.Fault;
import dev.credits.topups.TopupsHandler;
import dev.credits.usage.HoldsHandler;
import dev.credits.usage.UsageHandler;
import dev.credits.webhook.StripeWebhookHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.math.BigDecimal;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
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
        env.put(dev.credits.core.store.StoreConfig.ENDPOINT_VARIABLE, dynamo.endpoint());
    }

    @AfterAll
    static void summary() {
        System.out.println("FAULT-INJECTION SUMMARY: " + SCENARIOS.get() + " scenarios; faults injected (target kind=count) "
                + FaultProxy.summary() + "; total " + FaultProxy.injectedTotal() + "; outcomes " + new java.util.TreeMap<>(OUTCOMES));
        dynamo.close();
    }

    /** Counts a scenario's first answer (every scenario reports exactly one), or an extra observation ("delivered N times"). */
    static void outcome(String key) {
        OUTCOMES.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        if (!key.contains(" times")) SCENARIOS.incrementAndGet();
    }

    static final AtomicInteger SCENARIOS = new AtomicInteger();

    // ------------------------------------------------------------------ HTTP functions over DynamoDB

    /**
     * One write path: how to set an account up (fault-free, through the shared runner), the request under test
     * (repeated as is by the retry), what a right answer is, and what the books must show afterwards.
     */
    record HttpCase(String name, String function, String writeOp, Supplier<String> prepare, Function<String, APIGatewayV2HTTPResponse> call,
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

    /**
     * A fault-free call through the shared runner. The DynamoDB stand-in on a loaded machine can itself be slow enough for a
     * 503, which a client retries (every setup write here is idempotent: ids on events, grants and holds).
     */
    static Resp steady(Supplier<Resp> call) {
        Resp r = call.get();
        for (int i = 0; i < 6 && r.status() == 503; i++) {
            try { Thread.sleep(1000L * Integer.parseInt(r.raw().headers().firstValue("retry-after").orElse("1"))); }
            catch (InterruptedException e) { throw new AssertionError(e); }
            r = call.get();
        }
        return r;
    }

    /** The call succeeded: first time, or replayed by a retry of it. */
    static Resp ok(Resp r) {
        assertTrue(r.status() == 201 || r.status() == 200, r.raw().body());
        return r;
    }

    static String funded(String prefix, String credits) {
        String id = newAccountId(prefix);
        ok(steady(() -> post("/v1/accounts", admin(), "{\"accountId\":\"" + id + "\"}")));
        if (credits != null) {
            ok(steady(() -> post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":" + credits + ",\"reason\":\"test funds\",\"grantId\":\"setup\"}")));
        }
        return id;
    }

    static void assertAmount(String expected, Object actual, String what) {
        assertNotNull(actual, what);
        assertEquals(0, new BigDecimal(expected).compareTo((BigDecimal) actual), what + ": " + actual);
    }

    static long entries(String account, String type) {
        return steady(() -> get("/v1/accounts/" + account + "/usage?limit=500&type=" + type, admin())).items().size();
    }

    static void assertAccount(String account, String balance, String held) {
        Resp a = steady(() -> get("/v1/accounts/" + account, admin()));
        assertAmount(balance, a.num("balance"), account + " balance");
        assertAmount(held, a.num("held"), account + " held");
    }

    static String hold(String holdId) {
        return "{\"holdId\":\"" + holdId + "\",\"model\":\"gpt-4o\",\"inputTokens\":20000,\"maxOutputTokens\":40000}"; // holds 0.45
    }

    static String accountWithHold() {
        String a = funded("f-hold", "1");
        ok(steady(() -> post("/v1/accounts/" + a + "/holds", metering(), hold("h-1"))));
        return a;
    }

    static List<HttpCase> httpCases() {
        UsageHandler usage = new UsageHandler(env);
        HoldsHandler holds = new HoldsHandler(env);
        AccountsHandler accounts = new AccountsHandler(env);
        StripeWebhookHandler webhook = new StripeWebhookHandler(env);
        Map<String, String> webhookPayloads = new ConcurrentHashMap<>();
        List<HttpCase> cases = new ArrayList<>();
        cases.add(new HttpCase("usage", "UsageFunction", "TransactWriteItems", () -> funded("f-usage", "1"),
                a -> usage.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/usage", List.of(a), metering(), unitsEvent("e-1", 100), Map.of()), null),
                (a, r) -> {
                    assertTrue(r.getStatusCode() == 201 || (r.getStatusCode() == 200 && Boolean.TRUE.equals(ApiEvents.body(r).get("replayed"))), r.getBody());
                    assertAmount("0.01", ApiEvents.body(r).get("charged"), "charged");
                },
                a -> { assertAccount(a, "0.99", "0"); assertEquals(1, entries(a, "workload_units")); }));
        cases.add(new HttpCase("usage-batch", "UsageFunction", "TransactWriteItems", () -> funded("f-batch", "1"),
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
        cases.add(new HttpCase("account-create", "AccountsFunction", "PutItem", () -> newAccountId("f-create"),
                a -> accounts.handleRequest(ApiEvents.event("POST /v1/accounts", List.of(), admin(),
                        "{\"accountId\":\"" + a + "\",\"plan\":\"starter\",\"softLimit\":0.5}", Map.of()), null),
                (a, r) -> {
                    assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody());
                    assertEquals(a, ApiEvents.body(r).get("accountId"));
                    assertEquals("ACTIVE", ApiEvents.body(r).get("status"));
                },
                a -> {
                    Resp acct = steady(() -> get("/v1/accounts/" + a, admin()));
                    assertEquals(200, acct.status());
                    assertAmount("0.5", acct.num("softLimit"), "softLimit");
                    assertAccount(a, "0", "0");
                    // another account under the same id is still refused
                    Resp other = steady(() -> post("/v1/accounts", admin(), "{\"accountId\":\"" + a + "\",\"plan\":\"pro\"}"));
                    assertEquals(409, other.status(), other.raw().body());
                    assertEquals("account_exists", other.code());
                }));
        cases.add(new HttpCase("grant", "AccountsFunction", "TransactWriteItems", () -> funded("f-grant", "1"),
                a -> accounts.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/grants", List.of(a), admin(),
                        "{\"credits\":5,\"reason\":\"fault test\",\"grantId\":\"g-1\"}", Map.of()), null),
                (a, r) -> assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody()),
                a -> { assertAccount(a, "6", "0"); assertEquals(2, entries(a, "grant")); }));
        cases.add(new HttpCase("hold-place", "HoldsFunction", "TransactWriteItems", () -> funded("f-place", "1"),
                a -> holds.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/holds", List.of(a), metering(), hold("h-1"), Map.of()), null),
                (a, r) -> assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody()),
                a -> { assertAccount(a, "1", "0.45"); assertEquals(1, entries(a, "hold")); }));
        cases.add(new HttpCase("hold-capture", "HoldsFunction", "TransactWriteItems", FaultInjectionTest::accountWithHold,
                a -> holds.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/holds/{holdId}/capture", List.of(a, "h-1"), metering(),
                        "{\"captureId\":\"c-1\",\"inputTokens\":20000,\"outputTokens\":10000}", Map.of()), null), // 0.05 + 0.10
                (a, r) -> {
                    assertTrue(r.getStatusCode() == 201 || r.getStatusCode() == 200, r.getBody());
                    assertAmount("0.15", ApiEvents.body(r).get("charged"), "captured");
                },
                a -> { assertAccount(a, "0.85", "0.3"); assertEquals(1, entries(a, "capture")); }));
        cases.add(new HttpCase("hold-release", "HoldsFunction", "TransactWriteItems", FaultInjectionTest::accountWithHold,
                a -> holds.handleRequest(ApiEvents.event("POST /v1/accounts/{id}/holds/{holdId}/release", List.of(a, "h-1"), metering(), null, Map.of()), null),
                (a, r) -> assertEquals(200, r.getStatusCode(), r.getBody()),
                a -> { assertAccount(a, "1", "0"); assertEquals(1, entries(a, "release")); }));
        cases.add(new HttpCase("webhook-topup", "StripeWebhookFunction", "TransactWriteItems", () -> funded("f-topup", null),
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
        try (ExecutorService pool = Executors.newFixedThreadPool(12)) {
            List<Future<?>> runs = new ArrayList<>();
            for (HttpCase c : cases) {
                for (Fault f : ALL) {
                    for (int times : new int[]{1, PERSISTENT}) {
                        // the variants that only add waiting run on the hot path alone: a persistent ThrottlingException
                        // is handled like ProvisionedThroughputExceeded, a persistent timeout before like a reset before
                        if (times == PERSISTENT && (f == Fault.THROTTLE_RATE || f == Fault.TIMEOUT_BEFORE) && !c.name().equals("usage")) continue;
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
        FaultProxy.Rule rule = dynamo.inject(f, times, c.writeOp(), account);
        APIGatewayV2HTTPResponse first = withinTimeout(c.function(), () -> c.call().apply(account));
        dynamo.clear(rule);
        assertTrue(rule.used() >= 1, what + ": the fault was injected");
        if (times == 1) {
            // one fault: the SDK's own retry absorbs it (or, if the retry too is slow on a loaded machine, a 503)
            if (first.getStatusCode() == 503) {
                assertRetryable503(first, what);
                outcome("dynamodb once -> 503");
            } else {
                c.right().accept(account, first);
                outcome("dynamodb once -> right answer");
            }
        } else {
            assertRetryable503(first, what);
            outcome("dynamodb until cleared -> 503");
        }
        // the caller's retry (after a right answer too: a duplicate delivery) gets the right answer
        APIGatewayV2HTTPResponse retry = withinTimeout(c.function(), () -> c.call().apply(account));
        c.right().accept(account, retry);
        c.books().accept(account);
    }

    /**
     * Runs a handler as Lambda would: within the function's Timeout from template.yaml. A function still waiting on a
     * client when it runs out is stopped by Lambda, and API Gateway answers with its own error (no Retry-After, not
     * the spec's shape), so a client budget longer than the function's is a defect this makes visible.
     */
    static <T> T withinTimeout(String function, Supplier<T> call) {
        // half as long again: a loaded test machine is slower than Lambda; a client budget past the Timeout is far past it
        int seconds = Template.read(Template.locate()).timeoutSeconds(function) * 3 / 2;
        var f = java.util.concurrent.CompletableFuture.supplyAsync(call, r -> Thread.ofVirtual().start(r));
        try {
            return f.get(seconds, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError(function + " was still waiting " + seconds + "s in, past its Timeout: Lambda would"
                    + " have stopped it mid-call (an HTTP caller then gets API Gateway's error, not a 503 with Retry-After)");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Error err) throw err;
            throw new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
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
        String account = funded("f-buy", null);
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

    // ------------------------------------------------------------------ stream consumers

    /** Runs the scenarios side by side and fails with every failed one named. */
    static void inParallel(int threads, Map<String, Runnable> scenarios) throws Exception {
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> runs = new ArrayList<>();
            scenarios.forEach((what, run) -> runs.add(pool.submit(() -> {
                try {
                    run.run();
                } catch (Throwable t) {
                    failures.add(what + ": " + t);
                }
            })));
            for (Future<?> r : runs) r.get();
        }
        assertEquals(List.of(), failures);
    }

    static Template.Function function(String logicalId) {
        return Template.read(Template.locate()).functions().stream().filter(f -> f.logicalId().equals(logicalId)).findFirst().orElseThrow();
    }

    /**
     * A stream-fed function as its event source mapping drives it, seeing only one account's records (the stream
     * holds every test's writes): counts the batches it was handed and those it reported failed (Lambda then
     * redelivers from the first failed record), and keeps every record it saw, to deliver them all again.
     */
    static final class StreamConsumer implements RequestHandler<DynamodbEvent, StreamsEventResponse> {
        final String function;
        final String account;
        final RequestHandler<DynamodbEvent, StreamsEventResponse> handler;
        final MutableClock clock;
        final AtomicInteger handled = new AtomicInteger();
        final AtomicInteger failedBatches = new AtomicInteger();
        final Map<String, DynamodbEvent.DynamodbStreamRecord> seen = Collections.synchronizedMap(new java.util.LinkedHashMap<>());
        final StreamPoller poller;

        /** Positions at the stream's end: call before the account's writes. */
        StreamConsumer(String function, String account, RequestHandler<DynamodbEvent, StreamsEventResponse> handler, MutableClock clock) {
            this.function = function;
            this.account = account;
            this.handler = handler;
            this.clock = clock;
            Template.StreamSource s = function(function).streams().get(0);
            this.poller = new StreamPoller(s.tableLogicalId(), runner().dynamo(), runner().streams(), this, s.filterPatterns()).fromLatest();
        }

        @Override
        public StreamsEventResponse handleRequest(DynamodbEvent event, com.amazonaws.services.lambda.runtime.Context ctx) {
            List<DynamodbEvent.DynamodbStreamRecord> mine = event.getRecords().stream().filter(r -> r.getDynamodb().getKeys().values().stream()
                    .anyMatch(v -> v.getS() != null && (v.getS().equals(account) || v.getS().startsWith(account + "#")))).toList();
            if (mine.isEmpty()) return new StreamsEventResponse(List.of());
            mine.forEach(r -> seen.putIfAbsent(r.getDynamodb().getSequenceNumber(), r));
            handled.incrementAndGet();
            DynamodbEvent e = new DynamodbEvent();
            e.setRecords(new ArrayList<>(mine));
            StreamsEventResponse r = handler.handleRequest(e, ctx);
            if (r != null && r.getBatchItemFailures() != null && !r.getBatchItemFailures().isEmpty()) failedBatches.incrementAndGet();
            return r;
        }

        /** Polls until the armed fault struck (the records it waits for may come in a later batch than the first). */
        void deliverUntilStruck(FaultProxy.Rule rule) {
            for (int pass = 0; pass < 50 && rule.used() == 0; pass++) {
                if (withinTimeout(function, poller::pollOnce) == 0 && pass > 5) break;
            }
            assertTrue(rule.used() > 0, function + ": the fault struck (" + handled.get() + " batches handed)");
        }

        /** Polls until a pass reads nothing and reports no failure; past a failure the clock moves past any claim's lock. */
        void drain() {
            for (int pass = 0; pass < 50; pass++) {
                int before = failedBatches.get();
                int read = withinTimeout(function, poller::pollOnce);
                if (read == 0 && failedBatches.get() == before) return;
                if (failedBatches.get() > before && clock != null) clock.advance(Duration.ofSeconds(61));
            }
            fail("the stream did not drain");
        }

        /** Every record seen, delivered again in one batch (Lambda may redeliver any of them); must succeed. */
        void redeliverAll() {
            DynamodbEvent e = new DynamodbEvent();
            synchronized (seen) { e.setRecords(new ArrayList<>(seen.values())); }
            StreamsEventResponse r = withinTimeout(function, () -> handler.handleRequest(e, null));
            assertTrue(r.getBatchItemFailures() == null || r.getBatchItemFailures().isEmpty(), function + ": redelivery failed");
        }
    }

    static final class MutableClock extends Clock {
        private volatile Instant now = Instant.now();
        void advance(Duration d) { now = now.plus(d); }
        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    /**
     * The aggregator under every DynamoDB fault on its write (one transaction per account and day: the totals and
     * each entry's History row): a failed batch is redelivered, and each usage entry is in the day's totals and in
     * History exactly once, also after the whole stream is delivered again.
     */
    @Test
    void theAggregatorUnderEveryDynamoDbFaultCountsEachUsageEntryExactlyOnce() throws Exception {
        AggregatorHandler aggregator = new AggregatorHandler(env);
        Map<String, Runnable> scenarios = new java.util.LinkedHashMap<>();
        for (Fault f : ALL) {
            for (int times : new int[]{1, PERSISTENT}) {
                String what = "aggregator under " + f.wire() + (times == 1 ? " once" : " until cleared");
                scenarios.put(what, () -> {
                    String a = funded("f-agg", "1");
                    StreamConsumer c = new StreamConsumer("AggregatorFunction", a, aggregator, null);
                    ok(steady(() -> post("/v1/accounts/" + a + "/usage", metering(), unitsEvent("u-1", 100))));       // 0.01
                    ok(steady(() -> post("/v1/accounts/" + a + "/usage", metering(), aiEvent("u-2", "gpt-4o", 1000, 1000)))); // 0.0125
                    FaultProxy.Rule rule = dynamo.inject(f, times, "TransactWriteItems", a);
                    c.deliverUntilStruck(rule);
                    dynamo.clear(rule);
                    assertTrue(rule.used() >= 1, what + ": the fault was injected");
                    // one fault is normally absorbed by the SDK's retry; one that lasts fails the batch, to be delivered again
                    if (times == PERSISTENT) assertTrue(c.failedBatches.get() >= 1, what + ": the batch is reported failed");
                    outcome("aggregator " + (times == 1 ? "once" : "until cleared") + (c.failedBatches.get() > 0 ? " -> batch redelivered" : " -> absorbed"));
                    c.drain();
                    assertTotals(a, what);
                    // every record again (Lambda redelivering, a replayed stream): nothing counted twice
                    c.redeliverAll();
                    assertTotals(a, what + ", delivered again");
                });
            }
        }
        inParallel(8, scenarios);
    }

    static void assertTotals(String account, String what) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        // call, not get: the stack's own stream poller must not count what the aggregator under test is to count
        Resp h = steady(() -> call("GET", "/v1/accounts/" + account + "/usage?type=ai_tokens,workload_units&limit=500", admin(), null));
        assertEquals(200, h.status(), h.raw().body());
        assertEquals(List.of("usage#u-2", "usage#u-1"), h.items().stream().map(m -> m.get("entryId")).toList(),
                what + ": each usage entry in History once");
        Resp r = steady(() -> call("GET", "/v1/accounts/" + account + "/usage/summary?from=" + today.minusDays(1) + "&to=" + today, admin(), null));
        assertEquals(200, r.status(), r.raw().body());
        @SuppressWarnings("unchecked") Map<String, Object> totals = (Map<String, Object>) r.body().get("totals");
        assertAmount("0.0225", totals.get("credits"), what + ": credits in the totals");
        @SuppressWarnings("unchecked") Map<String, Object> ai = (Map<String, Object>) totals.get("aiTokens");
        @SuppressWarnings("unchecked") Map<String, Object> wu = (Map<String, Object>) totals.get("workloadUnits");
        assertAmount("1", ai.get("events"), what + ": AI events");
        assertAmount("1", wu.get("events"), what + ": workload events");
        assertAmount("100", wu.get("units"), what + ": units");
    }

    // ------------------------------------------------------------------ alerts (DynamoDB and SNS)

    /**
     * The alert function under faults on SNS's Publish and on its own DynamoDB writes (the claim, and the COMPLETED
     * mark after SNS took the message). What the design promises, and this proves:
     * <ul>
     *   <li>no lost alert: whatever fails, the batch item is reported failed, redelivered, and the alert reaches the
     *   subscribed queue (a claim left IN_PROGRESS by a write whose answer was lost holds it back at most for the
     *   claim's 60 s lock);</li>
     *   <li>exactly one message when SNS never took one that went unanswered: every fault before SNS (throttling,
     *   500, reset, no answer), and every fault on the claim;</li>
     *   <li>at least once, not exactly once, when SNS took a Publish but its answer was lost (reset or timeout after
     *   SNS accepted: the SDK's own retries publish again, then the redelivery does), or when the COMPLETED mark
     *   failed after SNS took it: then every copy is the same message, and the queue holds exactly one message per
     *   Publish that reached SNS; nothing else repeats it. A standard SNS topic has no deduplication and email
     *   subscribers cannot have any, so this is the promise.</li>
     * </ul>
     */
    @Test
    void alertsUnderSnsAndDynamoDbFaultsAreNeverLostAndRepeatOnlyWhenSnsTookAnUnansweredPublish() throws Exception {
        assumeTrue(messagingEndpoint() != null, "MOTO_ENDPOINT is not set: the test command starts moto server and sets it");
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"));
        try (FaultProxy sns = new FaultProxy("sns", FaultProxy.Protocol.SNS, messagingEndpoint());
             SqsClient sqs = SqsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                     .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build();
             SnsClient direct = SnsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                     .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build()) {
            Map<String, String> e = new HashMap<>(env);
            e.put("SNS_ENDPOINT", sns.endpoint());
            String topicArn = e.get("ALERTS_TOPIC_ARN");
            StoreConfig config = StoreConfig.fromEnv(e);
            var dynamoClient = Clients.dynamo(config);
            var publisher = new AlertPublisher.Sns(AlertHandler.sns(e), topicArn);

            record Target(FaultProxy proxy, String operation, Fault fault, int times, boolean mayRepeat) {}
            List<Target> targets = new ArrayList<>();
            for (Fault f : List.of(Fault.THROTTLE, Fault.HTTP_500, Fault.RESET_BEFORE, Fault.TIMEOUT_BEFORE, Fault.RESET_AFTER, Fault.TIMEOUT_AFTER)) {
                boolean after = f == Fault.RESET_AFTER || f == Fault.TIMEOUT_AFTER;
                targets.add(new Target(sns, "Publish", f, 1, after));
                targets.add(new Target(sns, "Publish", f, PERSISTENT, after));
            }
            for (Fault f : ALL) targets.add(new Target(dynamo, "PutItem", f, PERSISTENT, false));   // the claim
            for (Fault f : List.of(Fault.HTTP_500, Fault.RESET_AFTER)) {
                targets.add(new Target(dynamo, "UpdateItem", f, PERSISTENT, true));                 // COMPLETED, after SNS took it
            }

            Map<String, Runnable> scenarios = new java.util.LinkedHashMap<>();
            for (Target t : targets) {
                String what = "alert under " + t.proxy().summaryName() + " " + t.operation() + " " + t.fault().wire()
                        + (t.times() == 1 ? " once" : " until cleared");
                scenarios.put(what, () -> {
                    String a = newAccountId("f-alert");
                    MutableClock clock = new MutableClock();
                    StreamConsumer c = new StreamConsumer("AlertFunction", a, new AlertHandler(dynamoClient, config, publisher, clock), clock);
                    ok(steady(() -> post("/v1/accounts", admin(), "{\"accountId\":\"" + a + "\",\"softLimit\":0.5}")));
                    String inbox = inbox(sqs, direct, topicArn, a);
                    ok(steady(() -> post("/v1/accounts/" + a + "/grants", admin(), "{\"credits\":1,\"reason\":\"t\",\"grantId\":\"setup\"}")));
                    ok(steady(() -> post("/v1/accounts/" + a + "/usage", metering(), aiEvent("s-1", "gpt-4o", 100_000, 20_000)))); // 0.55
                    ok(steady(() -> post("/v1/accounts/" + a + "/usage", metering(), aiEvent("s-2", "gpt-4o", 100_000, 20_000)))); // 0.10: crossed
                    FaultProxy.Rule rule = t.proxy().inject(t.fault(), t.times(), t.operation(), a);
                    c.deliverUntilStruck(rule);
                    t.proxy().clear(rule);
                    assertTrue(rule.used() >= 1, what + ": the fault was injected");
                    if (t.times() == PERSISTENT) assertTrue(c.failedBatches.get() >= 1, what + ": the batch item is reported failed");
                    outcome("alert " + (c.failedBatches.get() > 0 ? "batch failed -> redelivered" : "absorbed by the SDK's retry"));
                    c.drain();
                    List<Map<String, Object>> got = received(sqs, inbox);
                    int published = sns.forwarded("Publish", a).size();
                    assertFalse(got.isEmpty(), what + ": the alert is not lost");
                    assertEquals(published, got.size(), what + ": one message per Publish that reached SNS");
                    if (!t.mayRepeat()) assertEquals(1, got.size(), what + ": exactly one alert");
                    for (Map<String, Object> m : got) {
                        assertEquals(got.get(0).get("Subject"), m.get("Subject"), what + ": every copy is the same alert");
                        assertEquals(got.get(0).get("Message"), m.get("Message"), what + ": every copy is the same alert");
                        assertEquals(got.get(0).get("MessageAttributes"), m.get("MessageAttributes"), what);
                    }
                    if (got.size() > 1) outcome("alert delivered " + got.size() + " times (SNS took an unanswered Publish)");
                    // every record again: nothing more is sent
                    c.redeliverAll();
                    assertEquals(0, received(sqs, inbox).size(), what + ": a redelivery sends nothing");
                });
            }
            inParallel(12, scenarios);
        }
    }

    /**
     * Setting the alert email subscribes it on SNS (the accounts function). Under SNS throttling, 500s, resets and
     * silence the owner gets a 503 with Retry-After within the function's Timeout, the retry gets 200, and the account
     * ends with its address subscribed: exactly once when SNS never took an unanswered Subscribe.
     */
    @Test
    void theAlertEmailUnderSnsFaultsIsA503ThenSubscribedOnTheRetry() throws Exception {
        assumeTrue(messagingEndpoint() != null, "MOTO_ENDPOINT is not set: the test command starts moto server and sets it");
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"));
        try (FaultProxy sns = new FaultProxy("sns", FaultProxy.Protocol.SNS, messagingEndpoint());
             SnsClient direct = SnsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                     .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build()) {
            Map<String, String> e = new HashMap<>(runner().functionEnv());
            e.put("SNS_ENDPOINT", sns.endpoint());
            AccountsHandler accounts = new AccountsHandler(e);
            String topicArn = e.get("ALERTS_TOPIC_ARN");
            Map<String, Boolean> mayRepeat = new ConcurrentHashMap<>();
            Map<String, Runnable> scenarios = new java.util.LinkedHashMap<>();
            for (Fault f : List.of(Fault.THROTTLE, Fault.HTTP_500, Fault.RESET_BEFORE, Fault.TIMEOUT_BEFORE, Fault.RESET_AFTER, Fault.TIMEOUT_AFTER)) {
                String what = "alert email under sns Subscribe " + f.wire() + " until cleared";
                scenarios.put(what, () -> {
                    String a = funded("f-email", null);
                    // an address of its own: SNS keeps one subscription per topic and address
                    String email = "owner+" + a + "@example.com";
                    Supplier<APIGatewayV2HTTPResponse> call = () -> withinTimeout("AccountsFunction", () -> accounts.handleRequest(
                            ApiEvents.event("PUT /v1/accounts/{id}/limits", List.of(a), owner(a), "{\"alertEmail\":\"" + email + "\"}", Map.of()), null));
                    FaultProxy.Rule rule = sns.inject(f, PERSISTENT, "Subscribe", a);
                    APIGatewayV2HTTPResponse first = call.get();
                    sns.clear(rule);
                    assertTrue(rule.used() >= 1, what + ": the fault was injected");
                    assertRetryable503(first, what);
                    outcome("sns subscribe until cleared -> 503");
                    APIGatewayV2HTTPResponse retry = call.get();
                    assertEquals(200, retry.getStatusCode(), what + ": " + retry.getBody());
                    assertEquals(email, ApiEvents.body(retry).get("alertEmail"));
                    // the subscription the account records is the one SNS holds, for this address and this account
                    var state = new dev.credits.core.store.AlertStore(runner().dynamo(), storeConfig(), Clock.systemUTC())
                            .subscriptionState(new dev.credits.core.domain.AccountId(a));
                    assertNotNull(state.current(), what + ": the subscription is recorded");
                    Map<String, String> attrs = direct.getSubscriptionAttributes(b -> b.subscriptionArn(state.current().arn())).attributes();
                    assertEquals(email, attrs.get("Endpoint"), what);
                    SUBSCRIPTIONS.add(state.current().arn());
                    assertTrue(attrs.get("FilterPolicy").contains("\"" + a + "\""), what + ": " + attrs.get("FilterPolicy"));
                    mayRepeat.put(a, f == Fault.RESET_AFTER || f == Fault.TIMEOUT_AFTER);
                });
            }
            inParallel(6, scenarios);
            // then, with nothing subscribing any more (a listing is paged), how many subscriptions each account has
            Map<String, Integer> count = new HashMap<>();
            for (var sub : direct.listSubscriptionsByTopicPaginator(b -> b.topicArn(topicArn)).subscriptions()) {
                if (!"email".equals(sub.protocol())) continue;
                String policy = direct.getSubscriptionAttributes(b -> b.subscriptionArn(sub.subscriptionArn())).attributes().get("FilterPolicy");
                mayRepeat.keySet().stream().filter(a -> policy != null && policy.contains("\"" + a + "\"")).forEach(a -> count.merge(a, 1, Integer::sum));
            }
            mayRepeat.forEach((a, repeat) -> {
                int n = count.getOrDefault(a, 0);
                assertTrue(n >= 1, a + " subscribed");
                if (!repeat) assertEquals(1, n, a + ": exactly one subscription");
                if (n > 1) outcome("sns subscription left " + n + " times (SNS took an unanswered Subscribe)");
            });
        }
    }

    /** A queue that receives the account's alerts, subscribed with the filter an owner's email has. */
    static String inbox(SqsClient sqs, SnsClient sns, String topicArn, String account) {
        String url = sqs.createQueue(b -> b.queueName("fault-inbox-" + java.util.UUID.randomUUID())).queueUrl();
        String arn = sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        String sub = sns.subscribe(b -> b.topicArn(topicArn).protocol("sqs").endpoint(arn).returnSubscriptionArn(true)
                .attributes(Map.of("FilterPolicy", "{\"accountId\":[\"" + account + "\"]}"))).subscriptionArn();
        SUBSCRIPTIONS.add(sub);
        return url;
    }

    /**
     * Subscriptions this class made, removed at its end: moto server publishes only to the first 100 subscriptions
     * of a topic (it reads one page of them), so a suite that leaves them behind silences later alert tests.
     */
    static final List<String> SUBSCRIPTIONS = Collections.synchronizedList(new ArrayList<>());

    @AfterAll
    static void unsubscribe() {
        if (messagingEndpoint() == null) return;
        try (SnsClient sns = SnsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                .endpointOverride(URI.create(messagingEndpoint()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))).build()) {
            for (String arn : List.copyOf(SUBSCRIPTIONS)) sns.unsubscribe(b -> b.subscriptionArn(arn));
        }
    }

    static List<Map<String, Object>> received(SqsClient sqs, String queueUrl) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int empty = 0; empty < 2; ) {
            List<Message> msgs = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(0)).messages();
            if (msgs.isEmpty()) {
                empty++;
                try { Thread.sleep(50); } catch (InterruptedException ie) { throw new AssertionError(ie); }
                continue;
            }
            for (Message m : msgs) {
                try {
                    out.add(Json.parseObject(m.body()));
                } catch (Json.MalformedJsonException ex) {
                    throw new AssertionError(ex);
                }
                sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
            }
        }
        return out;
    }
}
