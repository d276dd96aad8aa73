package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.json.Json;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.usage.HoldExpiryHandler;
import dev.credits.usage.HoldsHandler;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Holds for AI calls (issue 9): reserve the worst case, capture what was used, release the rest, expire.
 * gpt-4o: 2.50 credits per 1M input tokens, 10.00 per 1M output tokens.
 */
@ContractTest
class HoldsTest {

    private static String hold(String holdId, long in, long maxOut) {
        return "{\"holdId\":\"" + holdId + "\",\"model\":\"gpt-4o\",\"inputTokens\":" + in + ",\"maxOutputTokens\":" + maxOut + "}";
    }

    private static String capture(String captureId, long in, long out, boolean last) {
        return "{\"captureId\":\"" + captureId + "\",\"inputTokens\":" + in + ",\"outputTokens\":" + out + (last ? ",\"final\":true" : "") + "}";
    }

    private static Resp account(String id) {
        return get("/v1/accounts/" + id, admin());
    }

    /**
     * The ledger table's TTL attribute (read from template.yaml) deletes whatever carries it. A hold record must never
     * carry it: once deleted, a retried placement with the same holdId would hold the funds again, and a capture would
     * find no hold. Nothing of a hold's story (hold, captures, release, the charged usage) may carry it.
     */
    @Test
    void noHoldRecordCarriesTheTablesTimeToLiveAttribute() {
        @SuppressWarnings("unchecked")
        String ttl = Template.read(Template.locate()).tables().stream().filter(t -> t.logicalId().equals("LedgerTable"))
                .map(t -> (String) ((Map<String, Object>) t.properties().get("TimeToLiveSpecification")).get("AttributeName"))
                .findFirst().orElseThrow();
        String id = fundedAccount("ttl", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("ttl-1", 1_000, 1_000)).status());
        assertEquals(201, post("/v1/accounts/" + id + "/holds/ttl-1/capture", metering(), capture("c1", 1_000, 500, false)).status());
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("ttl-2", 1_000, 1_000)).status());
        assertEquals(200, post("/v1/accounts/" + id + "/holds/ttl-2/release", metering(), null).status());
        List<Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> items = new ArrayList<>();
        for (int shard = 0; shard < dev.credits.core.store.Keys.SHARDS; shard++) {
            String pk = dev.credits.core.store.Keys.shardPk(new dev.credits.core.domain.AccountId(id), shard);
            items.addAll(runner().dynamo().query(q -> q.tableName(storeConfig().ledgerTable()).keyConditionExpression("pk = :p")
                    .expressionAttributeValues(Map.of(":p", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(pk)))).items());
        }
        assertTrue(items.stream().anyMatch(i -> i.get("sk").s().startsWith("hold#")), "the hold records were found: " + items);
        assertTrue(items.size() >= 5, "grant, two holds, a capture and a release: " + items.size());
        for (var item : items) assertFalse(item.containsKey(ttl), "a ledger record carries the TTL attribute " + ttl + ": " + item);
    }

    @Test
    void aStreamedCallHoldsTheWorstCaseCapturesTwiceAndReleasesTheRest() {
        String id = fundedAccount("stream", "1");
        // worst case: 20k in (0.05) + 40k out (0.40) = 0.45 held
        Resp h = post("/v1/accounts/" + id + "/holds", metering(), hold("call-1", 20_000, 40_000));
        assertEquals(201, h.status(), h.raw().body());
        assertEquals(0, new BigDecimal("0.45").compareTo(h.num("held")));
        assertEquals(0, new BigDecimal("0.55").compareTo(h.num("available")));
        assertNotNull(h.body().get("expiresAt"));
        Resp a = account(id);
        assertEquals(0, BigDecimal.ONE.compareTo(a.num("balance")), "a hold does not move the balance");
        assertEquals(0, new BigDecimal("0.45").compareTo(a.num("held")));
        assertEquals(0, new BigDecimal("0.55").compareTo(a.num("available")));

        // the stream goes on: 20k in + 10k out so far = 0.05 + 0.10
        Resp c1 = post("/v1/accounts/" + id + "/holds/call-1/capture", metering(), capture("c1", 20_000, 10_000, false));
        assertEquals(201, c1.status(), c1.raw().body());
        assertEquals(0, new BigDecimal("0.15").compareTo(c1.num("charged")));
        assertEquals(0, new BigDecimal("0.3").compareTo(c1.num("remaining")));
        // then 5k more out = 0.05, final: the other 0.25 is released
        Resp c2 = post("/v1/accounts/" + id + "/holds/call-1/capture", metering(), capture("c2", 0, 5_000, true));
        assertEquals(201, c2.status(), c2.raw().body());
        assertEquals("FINISHED", c2.body().get("holdStatus"));
        a = account(id);
        assertEquals(0, new BigDecimal("0.8").compareTo(a.num("balance")));
        assertEquals(0, a.num("held").signum());
        assertEquals(0, new BigDecimal("0.8").compareTo(a.num("available")));

        // the history tells the story: hold, captures (priced), release
        List<String> kinds = get("/v1/accounts/" + id + "/usage?type=hold,capture,release", owner(id)).items().stream()
                .map(m -> m.get("type") + ":" + m.get("entryId")).toList();
        reorder(kinds);
        Map<String, Object> cap = get("/v1/accounts/" + id + "/usage?type=capture", owner(id)).items().get(1);
        assertEquals("gpt-4o", cap.get("model"));
        assertEquals("2026-11-01.1", cap.get("priceBookVersion"));
        assertNotNull(cap.get("rates"));
        // no more captures on a finished hold
        Resp late = post("/v1/accounts/" + id + "/holds/call-1/capture", metering(), capture("c3", 1, 1, false));
        assertEquals(409, late.status());
        assertEquals("hold_closed", late.code());
    }

    /** Entries written in the same millisecond may sort either way: the set, and the hold being oldest, matter. */
    private static void reorder(List<String> kinds) {
        List<String> expected = List.of("release:release#call-1", "capture:capture#call-1#c2", "capture:capture#call-1#c1", "hold:hold#call-1");
        assertEquals(new java.util.HashSet<>(expected), new java.util.HashSet<>(kinds));
        assertEquals("hold:hold#call-1", kinds.get(kinds.size() - 1));
    }

    @Test
    void capturesNeverExceedTheHoldAndTheHardLimitCountsHeldCredits() {
        String id = fundedAccount("bounds", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("big", 20_000, 40_000)).status()); // 0.45
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("big2", 20_000, 40_000)).status()); // 0.45
        // 0.1 available: a third hold, and a plain usage event of 0.45, are refused
        Resp third = post("/v1/accounts/" + id + "/holds", metering(), hold("big3", 20_000, 40_000));
        assertEquals(402, third.status());
        assertEquals("hard_limit_reached", third.code());
        assertEquals(402, post("/v1/accounts/" + id + "/usage", metering(), aiEvent("u", "gpt-4o", 100_000, 20_000)).status());
        // a capture worth more than the hold is refused whole
        Resp over = post("/v1/accounts/" + id + "/holds/big/capture", metering(), capture("x", 20_000, 50_000, false));
        assertEquals(409, over.status());
        assertEquals("exceeds_hold", over.code());
        assertEquals(0, BigDecimal.ONE.compareTo(account(id).num("balance")), "nothing charged");
        // releasing one frees its credits for usage
        Resp rel = post("/v1/accounts/" + id + "/holds/big/release", metering(), null);
        assertEquals(200, rel.status(), rel.raw().body());
        assertEquals(0, new BigDecimal("0.45").compareTo(rel.num("released")));
        assertEquals(200, post("/v1/accounts/" + id + "/holds/big/release", metering(), null).status(), "released once, answered again");
        assertEquals(0, new BigDecimal("0.45").compareTo(account(id).num("held")));
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), aiEvent("u", "gpt-4o", 100_000, 20_000)).status());
        assertEquals(0, new BigDecimal("0.55").compareTo(account(id).num("balance")));
        assertEquals(0, new BigDecimal("0.1").compareTo(account(id).num("available")));
    }

    @Test
    void eachHoldCaptureAndReleaseHappensOncePerId() {
        String id = fundedAccount("once", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("h", 1000, 1000)).status());
        Resp again = post("/v1/accounts/" + id + "/holds", metering(), hold("h", 1000, 1000));
        assertEquals(200, again.status());
        assertEquals(Boolean.TRUE, again.body().get("replayed"));
        assertEquals(409, post("/v1/accounts/" + id + "/holds", metering(), hold("h", 1000, 2000)).status());
        assertEquals(201, post("/v1/accounts/" + id + "/holds/h/capture", metering(), capture("c", 1000, 100, false)).status());
        Resp rc = post("/v1/accounts/" + id + "/holds/h/capture", metering(), capture("c", 1000, 100, false));
        assertEquals(200, rc.status());
        assertEquals(Boolean.TRUE, rc.body().get("replayed"));
        assertEquals(409, post("/v1/accounts/" + id + "/holds/h/capture", metering(), capture("c", 1000, 101, false)).status());
        // 1000 in (0.0025) + 100 out (0.001) = 0.0035, once
        assertEquals(0, new BigDecimal("0.9965").compareTo(account(id).num("balance")));
    }

    @Test
    void aCaptureWhoseCommitTimedOutIsAnsweredByItsRetryAndChargedOnce() throws Exception {
        String id = fundedAccount("cap-timeout", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("t", 1000, 1000)).status());
        FaultyDynamo dynamo = new FaultyDynamo(runner().dynamo());
        HoldsHandler h = new HoldsHandler(dynamo, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC());
        dynamo.timeoutsAfterCommit.set(1);
        APIGatewayV2HTTPResponse first = h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/capture", id, "t",
                capture("c", 1000, 1000, true)), null);
        assertEquals(503, first.getStatusCode(), first.getBody());
        APIGatewayV2HTTPResponse retry = h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/capture", id, "t",
                capture("c", 1000, 1000, true)), null);
        assertEquals(200, retry.getStatusCode(), retry.getBody());
        assertEquals(Boolean.TRUE, Json.parseObject(retry.getBody()).get("replayed"));
        Resp a = account(id);
        assertEquals(0, new BigDecimal("0.9875").compareTo(a.num("balance")), "0.0025 + 0.01 charged once");
        assertEquals(0, a.num("held").signum());
    }

    /**
     * A final capture reads the hold once (its rates), commits in one transaction and reads the balance for the answer:
     * no read of the capture id before (its put's condition tells a retry); a retry after the hold finished gets the
     * first result back from the capture entry, and a reused captureId with another body is a conflict.
     */
    @Test
    void aFinalCaptureIsOneReadOneTransactionAndItsRetryAfterTheHoldFinishedIsAReplay() {
        String id = fundedAccount("cap-reqs", "1");
        FaultyDynamo dynamo = new FaultyDynamo(runner().dynamo());
        HoldsHandler h = new HoldsHandler(dynamo, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC());
        assertEquals(201, h.handleRequest(event("POST /v1/accounts/{id}/holds", id, null, hold("cr", 20_000, 40_000)), null).getStatusCode());
        dynamo.calls.clear();
        APIGatewayV2HTTPResponse first = h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/capture", id, "cr",
                capture("last", 20_000, 10_000, true)), null);
        assertEquals(201, first.getStatusCode(), first.getBody());
        assertEquals(List.of("GetItem", "TransactWriteItems", "GetItem"), List.copyOf(dynamo.calls));
        Map<String, Object> body = parse(first.getBody());
        assertEquals("FINISHED", body.get("holdStatus"));
        assertEquals(0, new BigDecimal("0.15").compareTo((BigDecimal) body.get("charged")));
        assertEquals(0, BigDecimal.ZERO.compareTo((BigDecimal) body.get("remaining")));

        APIGatewayV2HTTPResponse retry = h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/capture", id, "cr",
                capture("last", 20_000, 10_000, true)), null);
        assertEquals(200, retry.getStatusCode(), retry.getBody());
        assertEquals(body.get("charged"), parse(retry.getBody()).get("charged"));
        APIGatewayV2HTTPResponse other = h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/capture", id, "cr",
                capture("last", 1, 1, true)), null);
        assertEquals(409, other.getStatusCode(), other.getBody());
        assertTrue(other.getBody().contains("idempotency_conflict"), other.getBody());
        Resp a = account(id);
        assertEquals(0, new BigDecimal("0.85").compareTo(a.num("balance")), "charged once");
        assertEquals(0, a.num("held").signum());
    }

    @Test
    void aHoldOrAReleaseWhoseCommitTimedOutIsAnsweredByItsRetryAndAppliedOnce() throws Exception {
        String id = fundedAccount("hold-timeout", "1");
        FaultyDynamo dynamo = new FaultyDynamo(runner().dynamo());
        HoldsHandler h = new HoldsHandler(dynamo, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC());
        dynamo.timeoutsAfterCommit.set(1);
        assertEquals(503, h.handleRequest(event("POST /v1/accounts/{id}/holds", id, null, hold("tt", 20_000, 40_000)), null).getStatusCode());
        APIGatewayV2HTTPResponse retry = h.handleRequest(event("POST /v1/accounts/{id}/holds", id, null, hold("tt", 20_000, 40_000)), null);
        assertEquals(200, retry.getStatusCode(), retry.getBody());
        assertEquals(0, new BigDecimal("0.45").compareTo(account(id).num("held")), "held once");
        dynamo.timeoutsAfterCommit.set(1);
        assertEquals(503, h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/release", id, "tt", null), null).getStatusCode());
        APIGatewayV2HTTPResponse again = h.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/release", id, "tt", null), null);
        assertEquals(200, again.getStatusCode(), again.getBody());
        Resp a = account(id);
        assertEquals(0, a.num("held").signum(), "released once");
        assertEquals(0, BigDecimal.ONE.compareTo(a.num("available")));
        assertEquals(1, get("/v1/accounts/" + id + "/usage?type=release", admin()).items().size());
    }

    @Test
    void anAbandonedHoldExpiresByTheScheduleAndCannotBeCapturedAfter() throws Exception {
        String id = fundedAccount("expiry", "1");
        Instant t0 = Instant.now();
        HoldsHandler at0 = new HoldsHandler(runner().dynamo(), storeConfig(), PriceBookLoader.fromClasspath(), Clock.fixed(t0, ZoneOffset.UTC));
        APIGatewayV2HTTPResponse placed = at0.handleRequest(event("POST /v1/accounts/{id}/holds", id, null,
                "{\"holdId\":\"gone\",\"model\":\"gpt-4o\",\"inputTokens\":1000,\"maxOutputTokens\":1000,\"ttlSeconds\":60}"), null);
        assertEquals(201, placed.getStatusCode(), placed.getBody());
        // after its expiry, before the schedule ran: already no capture
        Clock later = Clock.fixed(t0.plus(Duration.ofSeconds(61)), ZoneOffset.UTC);
        HoldsHandler at61 = new HoldsHandler(runner().dynamo(), storeConfig(), PriceBookLoader.fromClasspath(), later);
        APIGatewayV2HTTPResponse late = at61.handleRequest(event("POST /v1/accounts/{id}/holds/{holdId}/capture", id, "gone",
                capture("c", 1, 1, false)), null);
        assertEquals(409, late.getStatusCode());
        assertEquals("hold_expired", ((Map<?, ?>) Json.parseObject(late.getBody()).get("error")).get("code"));
        assertEquals(0, new BigDecimal("0.0125").compareTo(account(id).num("held")), "still held until the schedule runs");
        // the schedule before the expiry releases nothing, after it releases the hold
        new HoldExpiryHandler(runner().dynamo(), storeConfig(), Clock.fixed(t0.plusSeconds(30), ZoneOffset.UTC)).handleRequest(Map.of(), null);
        assertEquals(0, new BigDecimal("0.0125").compareTo(account(id).num("held")));
        new HoldExpiryHandler(runner().dynamo(), storeConfig(), later).handleRequest(Map.of(), null);
        Resp a = account(id);
        assertEquals(0, a.num("held").signum());
        assertEquals(0, BigDecimal.ONE.compareTo(a.num("balance")));
        Map<String, Object> release = get("/v1/accounts/" + id + "/usage?type=release", owner(id)).items().get(0);
        assertTrue(((String) release.get("reason")).contains("expired"), release.toString());
        Resp hold = get("/v1/accounts/" + id + "/holds/gone", owner(id));
        assertEquals("EXPIRED", hold.body().get("status"));
    }

    @Test
    void badHoldInputsAre4xxAndChangeNothing() {
        String id = fundedAccount("hold-bad", "1");
        String other = fundedAccount("hold-other", "1");
        assertEquals(201, post("/v1/accounts/" + other + "/holds", metering(), hold("theirs", 100, 100)).status());
        Map<String, String[]> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"holdId\":\"a\",\"model\":\"gpt-4o\",\"inputTokens\":-1,\"maxOutputTokens\":5}", new String[]{"400", "inputTokens"});
        cases.put("{\"holdId\":\"a\",\"model\":\"gpt-4o\",\"inputTokens\":10}", new String[]{"400", "maxOutputTokens"});
        cases.put("{\"holdId\":\"a\",\"model\":\"nope\",\"inputTokens\":10,\"maxOutputTokens\":5}", new String[]{"400", "model"});
        cases.put("{\"holdId\":\"a\",\"model\":\"gpt-4o\",\"inputTokens\":10,\"maxOutputTokens\":5,\"ttlSeconds\":5}", new String[]{"400", "ttlSeconds"});
        cases.put("{\"holdId\":\"a\",\"model\":\"gpt-4o\",\"inputTokens\":10,\"maxOutputTokens\":5,\"ttlSeconds\":86401}", new String[]{"400", "ttlSeconds"});
        cases.put("{\"model\":\"gpt-4o\",\"inputTokens\":10,\"maxOutputTokens\":5}", new String[]{"400", "holdId"});
        for (var c : cases.entrySet()) {
            Resp r = post("/v1/accounts/" + id + "/holds", metering(), c.getKey());
            assertEquals(Integer.parseInt(c.getValue()[0]), r.status(), c.getKey() + " -> " + r.raw().body());
            assertEquals(c.getValue()[1], r.error().get("field"), c.getKey());
        }
        Resp foreign = post("/v1/accounts/" + id + "/holds/theirs/capture", metering(), capture("c", 1, 1, false));
        assertEquals(404, foreign.status(), "another account's hold is not found through this account");
        assertEquals("hold_not_found", foreign.code());
        assertEquals(400, post("/v1/accounts/" + other + "/holds/theirs/capture", metering(), capture("c", -1, 1, false)).status());
        assertEquals(400, post("/v1/accounts/" + other + "/holds/theirs/capture", metering(), "{\"captureId\":\"c\",\"inputTokens\":1}").status());
        assertEquals(403, post("/v1/accounts/" + id + "/holds", owner(id), hold("mine", 1, 1)).status(), "owners do not place holds");
        Resp a = account(id);
        assertEquals(0, BigDecimal.ONE.compareTo(a.num("balance")));
        assertEquals(0, a.num("held").signum());
        assertEquals(0, new BigDecimal("0.00125").compareTo(account(other).num("held")));
    }

    @Test
    void closingReleasesOpenHoldsFirstAndForfeitsTheWholeBalance() {
        String id = fundedAccount("close-holds", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/holds", metering(), hold("open", 20_000, 40_000)).status());
        Resp closed = post("/v1/accounts/" + id + "/close", owner(id), null);
        assertEquals(200, closed.status(), closed.raw().body());
        assertEquals(0, BigDecimal.ONE.compareTo(closed.num("forfeited")));
        assertEquals(0, closed.num("held").signum());
        assertEquals("RELEASED", get("/v1/accounts/" + id + "/holds/open", owner(id)).body().get("status"));
    }

    @Test
    void theOverviewCountsCapturedChargesNotHolds() {
        String id = fundedAccount("hold-overview", "1");
        post("/v1/accounts/" + id + "/holds", metering(), hold("ov", 20_000, 40_000));
        post("/v1/accounts/" + id + "/holds/ov/capture", metering(), capture("c", 20_000, 10_000, true));
        drain();
        @SuppressWarnings("unchecked") Map<String, Object> totals = (Map<String, Object>) get("/v1/accounts/" + id + "/usage/summary", owner(id)).body().get("totals");
        assertEquals(0, new BigDecimal("0.15").compareTo((BigDecimal) totals.get("credits")));
        @SuppressWarnings("unchecked") Map<String, Object> ai = (Map<String, Object>) totals.get("aiTokens");
        assertEquals(0, new BigDecimal("10000").compareTo((BigDecimal) ai.get("outputTokens")));
    }

    @Test
    void racingHoldsCapturesReleasesAndUsageNeverTakeAvailableBelowTheHardLimit() throws Exception {
        String id = fundedAccount("hold-race", "5");
        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<BigDecimal> charged = new ConcurrentLinkedQueue<>();
        Thread watcher = new Thread(() -> {
            while (running.get()) {
                Resp a = account(id);
                if (a.num("available").signum() < 0) violations.add(a.raw().body());
            }
        });
        watcher.start();
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(36)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 36; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < 4; i++) {
                        String hid = "h" + thread + "-" + i;
                        if (thread % 3 == 0) {
                            Resp u = retrying(() -> post("/v1/accounts/" + id + "/usage", metering(), aiEvent("u" + hid, "gpt-4o", 20_000, 20_000)));
                            if (u.status() == 201) charged.add(u.num("charged"));
                            continue;
                        }
                        Resp h = retrying(() -> post("/v1/accounts/" + id + "/holds", metering(), hold(hid, 20_000, 40_000))); // 0.45
                        if (h.status() != 201) continue;
                        Resp c = retrying(() -> post("/v1/accounts/" + id + "/holds/" + hid + "/capture", metering(), capture("c", 20_000, 10_000, false)));
                        if (c.status() == 201) charged.add(c.num("charged"));
                        if (thread % 3 == 1) {
                            Resp c2 = retrying(() -> post("/v1/accounts/" + id + "/holds/" + hid + "/capture", metering(), capture("c2", 0, 5_000, true)));
                            if (c2.status() == 201) charged.add(c2.num("charged"));
                        } else {
                            retrying(() -> post("/v1/accounts/" + id + "/holds/" + hid + "/release", metering(), null));
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
        } finally {
            running.set(false);
            watcher.join();
        }
        assertEquals(List.of(), new ArrayList<>(violations), "available never went below the hard limit");
        assertTrue(charged.size() >= 10, "the race did charge: " + charged.size());
        Resp a = account(id);
        assertEquals(0, a.num("held").signum(), "every hold finished or released");
        BigDecimal total = charged.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
        assertEquals(0, new BigDecimal("5").subtract(total).compareTo(a.num("balance")), "balance = added - captured - charged");
        assertTrue(a.num("balance").signum() >= 0);
    }

    private static APIGatewayV2HTTPEvent event(String routeKey, String account, String holdId, String body) {
        Map<String, String> path = new HashMap<>();
        path.put("id", account);
        if (holdId != null) path.put("holdId", holdId);
        var jwt = APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                .withClaims(Map.of("sub", "metering-service", "scope", "credits/metering")).withScopes(List.of("credits/metering")).build();
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey(routeKey)
                .withHeaders(Map.of("content-type", "application/json")).withPathParameters(path).withBody(body)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withRequestId("test")
                        .withAuthorizer(APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withJwt(jwt).build()).build())
                .build();
    }

    private static Map<String, Object> parse(String json) {
        try {
            return Json.parseObject(json);
        } catch (Json.MalformedJsonException e) {
            throw new AssertionError(json, e);
        }
    }
}
