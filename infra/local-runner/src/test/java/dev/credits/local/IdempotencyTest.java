package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.tests.EventLoader;
import dev.credits.core.json.Json;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.usage.UsageHandler;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Invariant 3 for usage events: one effect per eventId under retries, duplicates racing, and a client timeout after
 * a write that did commit. Faults the DynamoDB stand-in cannot produce are injected by {@link FaultyDynamo}; the handler
 * gets real API Gateway HTTP API events loaded from src/test/resources/events/apigw.
 */
@ContractTest
class IdempotencyTest {

    private final FaultyDynamo dynamo = new FaultyDynamo(runner().dynamo());
    private final UsageHandler handler = new UsageHandler(dynamo, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC());

    private static APIGatewayV2HTTPEvent usageEvent(String account, String eventId) {
        APIGatewayV2HTTPEvent e = EventLoader.loadApiGatewayHttpEvent("events/apigw/usage-ai-tokens.json");
        Map<String, String> path = new HashMap<>(e.getPathParameters());
        path.put("id", account);
        e.setPathParameters(path);
        e.setBody(e.getBody().replace("evt-7f3a", eventId));
        return e;
    }

    private static Map<String, Object> body(APIGatewayV2HTTPResponse r) throws Exception {
        return Json.parseObject(r.getBody());
    }

    @Test
    void aTimeoutAfterTheCommitThenARetryReturnsTheFirstResultNotASecondChargeNorA402() throws Exception {
        // exactly enough for one event: a second charge would be refused, so a wrong retry shows as 402
        // the fixture's event: gpt-4o-mini, 1200 in x 0.15 + 350 out x 0.60 per 1M = 390 micro-credits
        BigDecimal cost = new BigDecimal("0.00039");
        String id = fundedAccount("timeout", cost.toPlainString());

        dynamo.timeoutsAfterCommit.set(1);
        APIGatewayV2HTTPResponse first = handler.handleRequest(usageEvent(id, "evt-timeout"), null);
        assertEquals(503, first.getStatusCode(), first.getBody());
        assertEquals("1", first.getHeaders().get("retry-after"));
        assertEquals("unavailable", ((Map<?, ?>) body(first).get("error")).get("code"));
        assertEquals(0, balance(id).signum(), "the write did commit");

        APIGatewayV2HTTPResponse retry = handler.handleRequest(usageEvent(id, "evt-timeout"), null);
        assertEquals(200, retry.getStatusCode(), retry.getBody());
        Map<String, Object> b = body(retry);
        assertEquals(Boolean.TRUE, b.get("replayed"));
        assertEquals(0, cost.compareTo((BigDecimal) b.get("charged")));
        assertEquals(0, balance(id).signum(), "charged once");
    }

    @Test
    void aTimeoutBeforeTheWriteIsRetryableAndTheRetryCharges() throws Exception {
        String id = fundedAccount("before", "1");
        dynamo.timeoutsBeforeCommit.set(1);
        assertEquals(503, handler.handleRequest(usageEvent(id, "evt-b"), null).getStatusCode());
        assertEquals(0, BigDecimal.ONE.compareTo(balance(id)), "nothing charged");
        APIGatewayV2HTTPResponse retry = handler.handleRequest(usageEvent(id, "evt-b"), null);
        assertEquals(201, retry.getStatusCode());
        assertEquals(0, new BigDecimal("0.99961").compareTo(balance(id)));
    }

    @Test
    void transactionConflictsAreRetriedInsideTheCall() throws Exception {
        String id = fundedAccount("conflict", "1");
        dynamo.conflicts.set(2);
        APIGatewayV2HTTPResponse r = handler.handleRequest(usageEvent(id, "evt-c"), null);
        assertEquals(201, r.getStatusCode(), r.getBody());
        assertEquals(0, new BigDecimal("0.99961").compareTo(balance(id)));
    }

    @Test
    void conflictsThatDoNotClearAreA503AndChargeNothing() throws Exception {
        String id = fundedAccount("conflict2", "1");
        dynamo.conflicts.set(100);
        APIGatewayV2HTTPResponse r = handler.handleRequest(usageEvent(id, "evt-d"), null);
        dynamo.conflicts.set(0);
        assertEquals(503, r.getStatusCode());
        assertNotNull(r.getHeaders().get("retry-after"));
        assertEquals(0, BigDecimal.ONE.compareTo(balance(id)));
    }

    @Test
    void theSameEventRacingFromManyCallersIsChargedOnce() throws Exception {
        String id = fundedAccount("dupes", "1");
        int callers = 32;
        CountDownLatch go = new CountDownLatch(1);
        ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    statuses.add(post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("same-event", 100)).status());
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
        }
        assertEquals(1, statuses.stream().filter(s -> s == 201).count(), statuses.toString());
        assertEquals(callers - 1, statuses.stream().filter(s -> s == 200).count(), statuses.toString());
        assertEquals(0, new BigDecimal("0.99").compareTo(balance(id)));
    }

    @Test
    void aRefusedEventLeavesNoTraceAndCanBeRetriedAfterFunding() {
        String id = fundedAccount("refused", null);
        Resp refused = post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("later", 10));
        assertEquals(402, refused.status());
        assertEquals(0, get("/v1/accounts/" + id + "/usage", admin()).items().size());
        post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":1,\"reason\":\"fund\"}");
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("later", 10)).status());
    }

    @Test
    void eventIdsAreScopedToTheirAccount() {
        String a = fundedAccount("scope-a", "1");
        String b = fundedAccount("scope-b", "1");
        assertEquals(201, post("/v1/accounts/" + a + "/usage", metering(), unitsEvent("shared-id", 10)).status());
        assertEquals(201, post("/v1/accounts/" + b + "/usage", metering(), unitsEvent("shared-id", 20)).status());
    }

    /**
     * A function is stopped at its timeout with no answer of ours; so a DynamoDB call that could outlive the invocation
     * (up to Clients.API_CALL_TIMEOUT, 8 s) is not started: the caller gets a 503 with Retry-After, nothing is charged,
     * and the same request with time to spare is charged once.
     */
    @Test
    void aCallThatCouldOutliveTheInvocationIsNotStarted() {
        String id = fundedAccount("deadline", "1");
        var functionClient = dev.credits.core.store.Clients.dynamo(storeConfig()); // the functions' own client, with its guard
        UsageHandler h = new UsageHandler(functionClient, storeConfig(), PriceBookLoader.fromClasspath(), Clock.systemUTC());
        APIGatewayV2HTTPResponse late = h.handleRequest(usageEvent(id, "evt-late"), context(5_000));
        assertEquals(503, late.getStatusCode(), late.getBody());
        assertNotNull(late.getHeaders().get("retry-after"), "retryable: " + late.getHeaders());
        assertEquals(0, BigDecimal.ONE.compareTo(balance(id)), "nothing charged");
        APIGatewayV2HTTPResponse inTime = h.handleRequest(usageEvent(id, "evt-late"), context(10_000));
        assertEquals(201, inTime.getStatusCode(), inTime.getBody());
        assertEquals(0, new BigDecimal("0.99961").compareTo(balance(id)), "charged once");
    }

    /** A Lambda context with this much time left (what the shell reads), and a request id. */
    private static com.amazonaws.services.lambda.runtime.Context context(int remainingMillis) {
        return (com.amazonaws.services.lambda.runtime.Context) java.lang.reflect.Proxy.newProxyInstance(
                IdempotencyTest.class.getClassLoader(), new Class<?>[]{com.amazonaws.services.lambda.runtime.Context.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "getRemainingTimeInMillis" -> remainingMillis;
                    case "getMemoryLimitInMB" -> 1024;
                    case "getAwsRequestId" -> "deadline-test";
                    default -> null;
                });
    }

    @Test
    void withPreferReturnMinimalAFirstChargeIsExactlyOneRequest() throws Exception {
        String id = fundedAccount("minimal", "1");
        APIGatewayV2HTTPEvent e = usageEvent(id, "evt-minimal");
        Map<String, String> headers = new HashMap<>(e.getHeaders());
        headers.put("prefer", "return=minimal");
        e.setHeaders(headers);
        dynamo.calls.clear();
        APIGatewayV2HTTPResponse r = handler.handleRequest(e, null);
        assertEquals(201, r.getStatusCode(), r.getBody());
        assertEquals(List.of("TransactWriteItems"), List.copyOf(dynamo.calls), "one request, no read-back");
        assertFalse(body(r).containsKey("balance"), "the balance is what the caller declined");
        assertEquals(0, new BigDecimal("0.99961").compareTo(balance(id)));
        // a retry of it is one request too: the cancelled transaction's ALL_OLD is the first result
        dynamo.calls.clear();
        APIGatewayV2HTTPResponse again = handler.handleRequest(e, null);
        assertEquals(200, again.getStatusCode(), again.getBody());
        assertEquals(List.of("TransactWriteItems"), List.copyOf(dynamo.calls), "a replay is one request, no read-back");
        assertEquals(Boolean.TRUE, body(again).get("replayed"));
        assertEquals(body(r).get("charged"), body(again).get("charged"));
        assertEquals(0, new BigDecimal("0.99961").compareTo(balance(id)), "nothing charged twice");
        // without the preference the balance after comes back, read after the commit
        dynamo.calls.clear();
        APIGatewayV2HTTPResponse full = handler.handleRequest(usageEvent(id, "evt-full"), null);
        assertEquals(List.of("TransactWriteItems", "GetItem"), List.copyOf(dynamo.calls));
        assertTrue(body(full).containsKey("balance"));
    }

    @Test
    void namingTheDefaultUnitKindIsTheSameEvent() {
        String id = fundedAccount("unit-default", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("u-1", 5)).status());
        Resp named = post("/v1/accounts/" + id + "/usage", metering(),
                "{\"eventId\":\"u-1\",\"type\":\"workload_units\",\"units\":5,\"unit\":\"standard\"}");
        assertEquals(200, named.status(), named.raw().body());
        Resp gpu = post("/v1/accounts/" + id + "/usage", metering(),
                "{\"eventId\":\"u-1\",\"type\":\"workload_units\",\"units\":5,\"unit\":\"gpu\"}");
        assertEquals(409, gpu.status());
    }
}
