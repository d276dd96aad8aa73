package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/** The batch form for hot accounts: many events, one balance update, a result per event, the hard limit exact. */
@ContractTest
class BatchUsageTest {

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> results(Resp r) {
        return (List<Map<String, Object>>) r.body().get("results");
    }

    private static String batch(String... events) {
        return "{\"events\":[" + String.join(",", events) + "]}";
    }

    @Test
    void eachEventGetsItsOwnResultInOrder() {
        String id = fundedAccount("batch", "1");
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("old", 10)).status());
        Resp r = post("/v1/accounts/" + id + "/usage/batch", metering(), batch(
                unitsEvent("b1", 100),                                     // 0.01
                aiEvent("b2", "gpt-4o", 1000, 1000),                       // 0.0125
                unitsEvent("old", 10),                                     // replay
                unitsEvent("old", 11),                                     // conflict
                aiEvent("b3", "no-such-model", 1, 1),                      // 400
                unitsEvent("b1", 100),                                     // twice in the batch
                "{\"eventId\":\"b4\",\"type\":\"workload_units\",\"units\":-3}"));
        assertEquals(200, r.status(), r.raw().body());
        List<Integer> statuses = results(r).stream().map(m -> ((Number) m.get("status")).intValue()).toList();
        assertEquals(List.of(201, 201, 200, 409, 400, 409, 400), statuses);
        assertEquals(0, new BigDecimal("0.0225").compareTo(r.num("charged")));
        assertEquals(0, new BigDecimal("0.9765").compareTo(balance(id)));
        assertEquals("unknown_model", ((Map<?, ?>) results(r).get(4).get("error")).get("code"));
        // the same batch again: all replays or refusals, nothing charged twice
        post("/v1/accounts/" + id + "/usage/batch", metering(), batch(unitsEvent("b1", 100), aiEvent("b2", "gpt-4o", 1000, 1000)));
        assertEquals(0, new BigDecimal("0.9765").compareTo(balance(id)));
    }

    @Test
    void theLongestPrefixThatFitsIsChargedAndTheRestRefused() {
        String id = fundedAccount("batch-limit", "0.03");
        Resp r = post("/v1/accounts/" + id + "/usage/batch", metering(), batch(
                unitsEvent("p1", 100), unitsEvent("p2", 100), unitsEvent("p3", 100), unitsEvent("p4", 100), unitsEvent("p5", 1)));
        assertEquals(List.of(201, 201, 201, 402, 402), results(r).stream().map(m -> ((Number) m.get("status")).intValue()).toList());
        assertEquals(0, balance(id).signum());
        assertEquals(3, get("/v1/accounts/" + id + "/usage?type=workload_units", admin()).items().size());
    }

    @Test
    void tooManyOrNoEventsAreA400() {
        String id = fundedAccount("batch-size", "1");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 100; i++) many.add(unitsEvent("m" + i, 1));
        Resp r = post("/v1/accounts/" + id + "/usage/batch", metering(), batch(many.toArray(String[]::new)));
        assertEquals(400, r.status());
        assertEquals("events", r.error().get("field"));
        assertEquals(400, post("/v1/accounts/" + id + "/usage/batch", metering(), "{\"events\":[]}").status());
        assertEquals(400, post("/v1/accounts/" + id + "/usage/batch", metering(), "{}").status());
        assertEquals(403, post("/v1/accounts/" + id + "/usage/batch", owner(id), batch(unitsEvent("x", 1))).status());
        assertEquals(0, BigDecimal.ONE.compareTo(balance(id)));
    }

    @Test
    void racingBatchesNeverOverdraw() throws Exception {
        String id = fundedAccount("batch-race", "2");
        ConcurrentLinkedQueue<BigDecimal> charged = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int round = 0; round < 3; round++) {
                        List<String> events = new ArrayList<>();
                        for (int i = 0; i < 50; i++) events.add(unitsEvent("r" + thread + "-" + round + "-" + i, 50)); // 0.005 each
                        Resp r = retrying(() -> post("/v1/accounts/" + id + "/usage/batch", metering(), batch(events.toArray(String[]::new))));
                        assertEquals(200, r.status(), r.raw().body());
                        charged.add(r.num("charged"));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
        }
        BigDecimal total = charged.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
        assertEquals(0, new BigDecimal("2").compareTo(total), "2400 events of 0.005 try; exactly 400 fit");
        assertEquals(0, balance(id).signum());
        long entries = 0;
        String cursor = null;
        do {
            Resp page = get("/v1/accounts/" + id + "/usage?limit=500&type=workload_units" + (cursor == null ? "" : "&cursor=" + cursor), admin());
            entries += page.items().size();
            cursor = page.body().get("nextCursor") instanceof String s ? s : null;
        } while (cursor != null);
        assertEquals(400, entries);
        drain();
        @SuppressWarnings("unchecked") Map<String, Object> totals = (Map<String, Object>) get("/v1/accounts/" + id + "/usage/summary", owner(id)).body().get("totals");
        assertEquals(0, new BigDecimal("2").compareTo((BigDecimal) totals.get("credits")), "the Overview agrees");
    }
}
