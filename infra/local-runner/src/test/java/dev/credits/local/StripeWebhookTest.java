package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.store.PaymentsStore;
import dev.credits.payments.PaymentsConfig;
import dev.credits.webhook.StripeSignature;
import dev.credits.webhook.StripeWebhookHandler;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

import static dev.credits.local.StripeEvents.*;
import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The Stripe webhook over HTTP against the local runner: every event type, duplicates, out-of-order and concurrent
 * deliveries, closed accounts and amount mismatches. The price is the template's default: 100 cents per credit.
 */
@ContractTest
class StripeWebhookTest {

    private static String ids(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
    }

    private static long entries(String account, String type) {
        return get("/v1/accounts/" + account + "/usage?limit=500&type=" + type, admin()).items().size();
    }

    private static void assertConserved(String account) {
        BigDecimal sum = get("/v1/accounts/" + account + "/usage?limit=500", admin()).items().stream()
                .map(m -> (BigDecimal) m.get("amount")).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertEquals(0, sum.compareTo(balance(account)), "the ledger sums to the balance");
    }

    @Test
    void aPaidCheckoutSessionCreditsNowOnceWithItsStripeIds() {
        String acct = fundedAccount("topup", null);
        String cs = ids("cs_test"), pi = ids("pi");
        String payload = session("checkout.session.completed", acct, cs, pi, 25, 2500, "paid");
        Resp r = deliver(payload);
        assertEquals(200, r.status(), r.raw().body());
        assertEquals(0, new BigDecimal("25").compareTo(balance(acct)), "credited in the webhook call");
        // the same delivery again, and the same session through another event id: still once
        assertEquals(200, deliver(payload).status());
        assertEquals(200, deliver(session("checkout.session.async_payment_succeeded", acct, cs, pi, 25, 2500, "paid")).status());
        assertEquals(0, new BigDecimal("25").compareTo(balance(acct)));
        List<Map<String, Object>> topups = get("/v1/accounts/" + acct + "/usage?type=topup", owner(acct)).items();
        assertEquals(1, topups.size());
        @SuppressWarnings("unchecked") Map<String, Object> refs = (Map<String, Object>) topups.get(0).get("references");
        assertEquals(cs, refs.get("checkoutSession"));
        assertEquals(pi, refs.get("paymentIntent"));
    }

    @Test
    void anAsyncPaymentIsCreditedOnlyWhenItSucceeds() {
        String acct = fundedAccount("async", null);
        String cs = ids("cs_test"), pi = ids("pi");
        assertEquals(200, deliver(session("checkout.session.completed", acct, cs, pi, 10, 1000, "unpaid")).status());
        assertEquals(0, balance(acct).signum(), "unpaid: nothing yet");
        String failed = ids("cs_test"), pi2 = ids("pi");
        deliver(session("checkout.session.completed", acct, failed, pi2, 10, 1000, "unpaid"));
        assertEquals(200, deliver(session("checkout.session.async_payment_failed", acct, failed, pi2, 10, 1000, "unpaid")).status());
        assertEquals(0, balance(acct).signum(), "failed: never");
        assertEquals(200, deliver(session("checkout.session.async_payment_succeeded", acct, cs, pi, 10, 1000, "paid")).status());
        assertEquals(0, new BigDecimal("10").compareTo(balance(acct)));
    }

    @Test
    void aPaidPlanInvoiceGrantsThePlanCreditsOncePerInvoice() {
        String acct = fundedAccount("plan", null);
        String in = ids("in");
        String payload = invoice(acct, in, "price_test_pro");
        assertEquals(200, deliver(payload).status());
        assertEquals(200, deliver(payload).status());
        assertEquals(0, new BigDecimal("5000.5").compareTo(balance(acct)));
        Map<String, Object> entry = get("/v1/accounts/" + acct + "/usage?type=plan_credit", owner(acct)).items().get(0);
        @SuppressWarnings("unchecked") Map<String, Object> refs = (Map<String, Object>) entry.get("references");
        assertEquals(in, refs.get("invoice"));
        assertEquals("price_test_pro", refs.get("price"));
        // the next period's invoice is a new grant
        assertEquals(200, deliver(invoice(acct, ids("in"), "price_test_starter")).status());
        assertEquals(0, new BigDecimal("6000.5").compareTo(balance(acct)));
        // a price no plan is configured for credits nothing
        assertEquals(200, deliver(invoice(acct, ids("in"), "price_unknown")).status());
        assertEquals(0, new BigDecimal("6000.5").compareTo(balance(acct)));
    }

    @Test
    void planCreditsComeOnlyWithAPeriodsOwnPaidInvoiceAndGoBackWithItsRefund() {
        String acct = fundedAccount("plan-edges", null);
        assertEquals(200, deliver(invoice(acct, ids("in"), "price_test_pro", "subscription_update", 2900)).status());
        assertEquals(0, balance(acct).signum(), "a plan change's proration invoice grants nothing");
        String trial = ids("in");
        assertEquals(200, deliver(invoice(acct, trial, "price_test_starter", "subscription_create", 0)).status());
        assertEquals(0, balance(acct).signum(), "nothing paid, nothing granted");
        assertTrue(reviewed(trial, "nothing_paid"));
        String in = ids("in");
        assertEquals(200, deliver(invoice(acct, in, "price_test_starter")).status());
        assertEquals(0, new BigDecimal("1000").compareTo(balance(acct)));
        // the subscription payment refunded in full: its plan credits go back
        assertEquals(200, deliver(refund("pi_" + in, ids("ch"), 2900, 2900)).status());
        assertEquals(0, balance(acct).signum());
        assertConserved(acct);
    }

    @Test
    void aRefundAfterClosingIsRecordedForReviewNotClawedTwice() {
        String acct = fundedAccount("refund-closed", null);
        String cs = ids("cs_test"), pi = ids("pi");
        deliver(session("checkout.session.completed", acct, cs, pi, 20, 2000, "paid"));
        assertEquals(200, post("/v1/accounts/" + acct + "/close", admin(), null).status());
        assertEquals(200, deliver(refund(pi, ids("ch"), 2000, 2000)).status());
        assertEquals(0, balance(acct).signum(), "the forfeit already took the credits");
        assertTrue(reviewed(pi, "refund_or_dispute_after_close"));
    }

    @Test
    void aRefundRacingTheCloseIsNotClawedBackAfterTheForfeit() {
        String acct = fundedAccount("refund-race", null);
        String cs = ids("cs_test"), pi = ids("pi");
        deliver(session("checkout.session.completed", acct, cs, pi, 20, 2000, "paid"));
        // the refund's delivery reads the account (active), then the owner's close commits, then it claws back
        AtomicBoolean closeNow = new AtomicBoolean(true);
        DynamoDbClient racing = new ClosingAfterRead(runner().dynamo(), storeConfig().accountsTable(), () -> {
            if (closeNow.getAndSet(false)) assertEquals(200, post("/v1/accounts/" + acct + "/close", admin(), null).status());
        });
        PaymentsStore store = new PaymentsStore(racing, storeConfig(), Clock.systemUTC());
        assertTrue(store.recordRefund(pi, ids("ch"), 2000, "evt_race").isEmpty(), "nothing clawed back from a closed account");
        assertFalse(closeNow.get(), "the close ran between the status read and the clawback");
        assertEquals(0, balance(acct).signum(), "the forfeit took the 20 credits; the refund takes nothing more");
        assertEquals(0, entries(acct, "clawback"));
        assertTrue(reviewed(pi, "refund_or_dispute_after_close"));
        assertConserved(acct);
    }

    /** The DynamoDB stand-in, with a hook run right after the first read of an account item (a race made deterministic). */
    private static final class ClosingAfterRead implements DynamoDbClient {
        private final DynamoDbClient real;
        private final String accounts;
        private final Runnable hook;

        ClosingAfterRead(DynamoDbClient real, String accounts, Runnable hook) {
            this.real = real;
            this.accounts = accounts;
            this.hook = hook;
        }

        @Override public GetItemResponse getItem(GetItemRequest r) {
            GetItemResponse out = real.getItem(r);
            if (r.tableName().equals(accounts)) hook.run();
            return out;
        }
        @Override public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest r) { return real.transactWriteItems(r); }
        @Override public PutItemResponse putItem(PutItemRequest r) { return real.putItem(r); }
        @Override public UpdateItemResponse updateItem(UpdateItemRequest r) { return real.updateItem(r); }
        @Override public QueryResponse query(QueryRequest r) { return real.query(r); }
        @Override public String serviceName() { return real.serviceName(); }
        @Override public void close() { }
    }

    @Test
    void oddNumbersAndIdsInASignedEventAre400NotAServerError() {
        String acct = fundedAccount("odd", null);
        String cs = ids("cs_test"), pi = ids("pi");
        deliver(session("checkout.session.completed", acct, cs, pi, 20, 2000, "paid"));
        for (String bad : new String[]{"500.5", "1e30", "-3"}) {
            String payload = refund(pi, "ch_odd", 2000, 0).replace("\"amount_refunded\": 0", "\"amount_refunded\": " + bad);
            assertEquals(400, deliver(payload).status(), bad);
        }
        String longId = session("checkout.session.completed", acct, "cs_" + "x".repeat(2000), pi, 20, 2000, "paid");
        assertEquals(400, deliver(longId).status());
        assertEquals(0, new BigDecimal("20").compareTo(balance(acct)));
    }

    @Test
    void refundsClawBackTheirShareOnceEvenOutOfOrderAndBelowTheHardLimit() {
        String acct = fundedAccount("refund", null);
        String cs = ids("cs_test"), pi = ids("pi"), ch = ids("ch");
        deliver(session("checkout.session.completed", acct, cs, pi, 40, 4000, "paid"));
        // spend 35 of the 40 credits (workload units: 0.0001 each)
        assertEquals(201, post("/v1/accounts/" + acct + "/usage", metering(), unitsEvent("spend", 350_000)).status());
        assertEquals(0, new BigDecimal("5").compareTo(balance(acct)));
        // partial refund of 1000 of 4000 cents: a quarter of the credits, 10
        String partial = refund(pi, ch, 4000, 1000);
        assertEquals(200, deliver(partial).status());
        assertEquals(200, deliver(partial).status());
        assertEquals(0, new BigDecimal("-5").compareTo(balance(acct)), "clawbacks ignore the hard limit");
        // the full refund: the rest, 30 more; then the older partial event once more changes nothing
        assertEquals(200, deliver(refund(pi, ch, 4000, 4000)).status());
        assertEquals(200, deliver(partial).status());
        assertEquals(0, new BigDecimal("-35").compareTo(balance(acct)));
        assertEquals(2, entries(acct, "clawback"));
        // usage stays stopped below the hard limit
        assertEquals(402, post("/v1/accounts/" + acct + "/usage", metering(), unitsEvent("more", 1)).status());
        assertConserved(acct);
    }

    @Test
    void aRefundDeliveredBeforeThePaymentIsAppliedWhenThePaymentArrives() {
        String acct = fundedAccount("early", null);
        String cs = ids("cs_test"), pi = ids("pi"), ch = ids("ch");
        assertEquals(200, deliver(refund(pi, ch, 2000, 500)).status());
        assertEquals(0, balance(acct).signum());
        assertEquals(200, deliver(session("checkout.session.completed", acct, cs, pi, 20, 2000, "paid")).status());
        assertEquals(0, new BigDecimal("15").compareTo(balance(acct)), "20 credited, a quarter clawed back");
        assertEquals(1, entries(acct, "topup"));
        assertEquals(1, entries(acct, "clawback"));
        assertConserved(acct);
    }

    @Test
    void disputesClawBackOncePerDisputeAndNeverMoreThanWasCredited() {
        String acct = fundedAccount("dispute", null);
        String cs = ids("cs_test"), pi = ids("pi"), ch = ids("ch");
        deliver(session("checkout.session.completed", acct, cs, pi, 10, 1000, "paid"));
        String dp = dispute(pi, ch, ids("dp"), 1000);
        assertEquals(200, deliver(dp).status());
        assertEquals(200, deliver(dp).status());
        assertEquals(0, balance(acct).signum());
        // a refund of the same charge cannot take back more than the 10 credits bought
        assertEquals(200, deliver(refund(pi, ch, 1000, 1000)).status());
        assertEquals(0, balance(acct).signum());
        assertEquals(1, entries(acct, "clawback"));
        assertConserved(acct);
    }

    @Test
    void concurrentDuplicateDeliveriesCreditOnce() throws Exception {
        String acct = fundedAccount("racing", null);
        String cs = ids("cs_test"), pi = ids("pi"), ch = ids("ch");
        String completed = session("checkout.session.completed", acct, cs, pi, 50, 5000, "paid");
        String succeeded = session("checkout.session.async_payment_succeeded", acct, cs, pi, 50, 5000, "paid");
        String refunded = refund(pi, ch, 5000, 2500);
        ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                String payload = i % 3 == 0 ? completed : i % 3 == 1 ? succeeded : refunded;
                fs.add(pool.submit(() -> { go.await(); statuses.add(deliver(payload).status()); return null; }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
        }
        assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 503), statuses.toString());
        // Stripe retries a 503: deliver each once more, as it would
        deliver(completed);
        deliver(refunded);
        assertEquals(0, new BigDecimal("25").compareTo(balance(acct)), "50 credited once, half clawed back once");
        assertEquals(1, entries(acct, "topup"));
        assertEquals(1, entries(acct, "clawback"));
        assertConserved(acct);
    }

    @Test
    void aPaymentForAClosedAccountIsNotCreditedAndIsRecordedForReview() {
        String acct = fundedAccount("closed-pay", null);
        assertEquals(200, post("/v1/accounts/" + acct + "/close", admin(), null).status());
        String cs = ids("cs_test");
        Resp r = deliver(session("checkout.session.completed", acct, cs, ids("pi"), 10, 1000, "paid"));
        assertEquals(200, r.status(), "acknowledged, so Stripe stops retrying");
        assertTrue(((String) r.body().get("result")).contains("review"));
        assertEquals(0, balance(acct).signum());
        assertTrue(reviewed(cs, "account_closed"));
    }

    @Test
    void anAmountThatDoesNotMatchThePriceIsNotCredited() {
        String acct = fundedAccount("mismatch", null);
        String cs = ids("cs_test");
        assertEquals(200, deliver(session("checkout.session.completed", acct, cs, ids("pi"), 100, 100, "paid")).status());
        assertEquals(0, balance(acct).signum(), "100 credits for 1.00 is not the price");
        assertTrue(reviewed(cs, "amount_mismatch"));
        String eur = load("checkout.session", Map.of("__TYPE__", "checkout.session.completed", "__ACCOUNT__", acct, "__REF__", acct,
                "__SESSION__", ids("cs_test"), "__PI__", ids("pi"), "__CREDITS__", "10", "__AMOUNT__", "1000", "__STATUS__", "paid",
                "__CURRENCY__", "eur"));
        assertEquals(200, deliver(eur).status());
        assertEquals(0, balance(acct).signum(), "another currency is not the price either");
        String other = load("checkout.session", Map.of("__TYPE__", "checkout.session.completed", "__ACCOUNT__", acct, "__REF__", "someone-else",
                "__SESSION__", ids("cs_test"), "__PI__", ids("pi"), "__CREDITS__", "10", "__AMOUNT__", "1000", "__STATUS__", "paid",
                "__CURRENCY__", "usd"));
        assertEquals(200, deliver(other).status());
        assertEquals(0, balance(acct).signum(), "metadata and client_reference_id must agree");
    }

    @Test
    void otherEventsAreAcknowledgedAndIgnored() {
        Resp r = deliver(load("customer.created", Map.of()));
        assertEquals(200, r.status());
        assertEquals("ignored", r.body().get("result"));
    }

    @Test
    void unverifiedDeliveriesAre400AndChangeNothing() {
        String acct = fundedAccount("forged", null);
        String payload = session("checkout.session.completed", acct, ids("cs_test"), ids("pi"), 10, 1000, "paid");
        long now = java.time.Instant.now().getEpochSecond();
        StripeSignature wrong = new StripeSignature("whsec_not_the_secret", 300, Clock.systemUTC());
        StripeSignature stale = new StripeSignature(TestStack.WEBHOOK_SECRET, 300, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-10)));
        for (String header : new String[]{null, "", "garbage", wrong.header(payload), stale.header(payload),
                "t=" + now + ",v1=" + "0".repeat(64), "v1=" + SIGNER.sign(now, payload)}) {
            Resp r = deliver(payload, header);
            assertEquals(400, r.status(), header + " -> " + r.raw().body());
            assertEquals("invalid_request", r.code());
        }
        String tampered = payload.replace("\"credits\": \"10\"", "\"credits\": \"99\"");
        assertNotEquals(payload, tampered);
        assertEquals(400, deliver(tampered, SIGNER.header(payload)).status(), "signed body altered");
        // several v1 signatures (Stripe sends one per active secret while rolling): one matching is enough
        assertEquals(200, deliver(payload, "t=" + now + ",v1=" + wrong.sign(now, payload) + ",v1=" + SIGNER.sign(now, payload)).status());
        assertEquals(0, new BigDecimal("10").compareTo(balance(acct)));
    }

    @Test
    void aBase64EncodedBodyIsVerifiedOverItsDecodedBytes() throws Exception {
        String acct = fundedAccount("b64", null);
        String payload = session("checkout.session.completed", acct, ids("cs_test"), ids("pi"), 7, 700, "paid");
        StripeWebhookHandler h = new StripeWebhookHandler(runner().dynamo(), storeConfig(),
                PaymentsConfig.fromEnv(runner().functionEnv()), SIGNER, Clock.systemUTC());
        APIGatewayV2HTTPEvent e = APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey("POST /v1/stripe/webhook")
                .withRawPath("/v1/stripe/webhook")
                .withHeaders(Map.of("content-type", "application/json", "stripe-signature", SIGNER.header(payload)))
                .withBody(Base64.getEncoder().encodeToString(payload.getBytes(StandardCharsets.UTF_8)))
                .withIsBase64Encoded(true).build();
        assertEquals(200, h.handleRequest(e, null).getStatusCode());
        assertEquals(0, new BigDecimal("7").compareTo(balance(acct)));
        assertNotNull(PriceBookLoader.fromClasspath());
    }

    private static boolean reviewed(String objectId, String reason) {
        PaymentsStore store = new PaymentsStore(runner().dynamo(), storeConfig(), Clock.systemUTC());
        return store.reviews().stream().anyMatch(m -> m.get("sk").s().equals(objectId + "#" + reason));
    }
}
