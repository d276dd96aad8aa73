package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Invariant 1 and 2 under races: many callers on one account over HTTP never take the balance below the hard limit,
 * and at rest the balance is what was added minus the charges that were accepted, one ledger entry each.
 */
@ContractTest
class ConcurrencyTest {
    private static final int THREADS = 48;

    @Test
    void racingChargesNeverCrossTheHardLimit() throws Exception {
        // 10 credits; each event costs 0.45 (gpt-4o 100k in + 20k out): at most 22 can pass, 240 try
        String id = fundedAccount("race", "10");
        int perThread = 5;
        ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<BigDecimal> balancesSeen = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        int n = i;
                        Resp r = retrying(() -> post("/v1/accounts/" + id + "/usage", metering(),
                                aiEvent("t" + thread + "-" + n, "gpt-4o", 100_000, 20_000)));
                        statuses.add(r.status());
                        if (r.status() == 201) balancesSeen.add(r.num("balance"));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
        }
        long accepted = statuses.stream().filter(s -> s == 201).count();
        long refused = statuses.stream().filter(s -> s == 402).count();
        assertEquals(THREADS * perThread, accepted + refused, "every request is either charged or refused: " + statuses);
        assertEquals(22, accepted, "exactly floor(10 / 0.45) events fit");
        BigDecimal expected = new BigDecimal("10").subtract(new BigDecimal("0.45").multiply(BigDecimal.valueOf(accepted)));
        assertEquals(0, expected.compareTo(balance(id)));
        assertTrue(balancesSeen.stream().allMatch(b -> b.signum() >= 0), "no response ever showed a negative balance");
        assertEquals(accepted, countEntries(id, "ai_tokens"), "one ledger entry per accepted charge");
    }

    @Test
    void chargesGrantsAndLimitChangesRacingKeepTheBooksBalanced() throws Exception {
        String id = fundedAccount("mixed", "5");
        CountDownLatch go = new CountDownLatch(1);
        ConcurrentLinkedQueue<Integer> usage = new ConcurrentLinkedQueue<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < 4; i++) {
                        if (thread % 8 == 0) {
                            int n = i;
                            retrying(() -> post("/v1/accounts/" + id + "/grants", admin(),
                                    "{\"credits\":0.5,\"reason\":\"race\",\"grantId\":\"g" + thread + "-" + n + "\"}"));
                        } else if (thread % 8 == 1) {
                            String limit = i % 2 == 0 ? "1" : "0";
                            retrying(() -> put("/v1/accounts/" + id + "/limits", admin(), "{\"hardLimit\":" + limit + "}"));
                        } else {
                            int n = i;
                            usage.add(retrying(() -> post("/v1/accounts/" + id + "/usage", metering(),
                                    unitsEvent("u" + thread + "-" + n, 2_500))).status()); // 0.25 each
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
        }
        assertTrue(usage.stream().allMatch(s -> s == 201 || s == 402), "only charges and refusals: " + usage);
        long accepted = usage.stream().filter(s -> s == 201).count();
        BigDecimal granted = new BigDecimal("5").add(new BigDecimal("0.5").multiply(BigDecimal.valueOf(6 * 4)));
        BigDecimal expected = granted.subtract(new BigDecimal("0.25").multiply(BigDecimal.valueOf(accepted)));
        BigDecimal balance = balance(id);
        assertEquals(0, expected.compareTo(balance), "balance = grants - accepted charges");
        assertTrue(balance.signum() >= 0, "never below the lowest hard limit used (0)");
        assertEquals(accepted, countEntries(id, "workload_units"));
    }

    private static long countEntries(String id, String type) {
        long n = 0;
        String cursor = null;
        do {
            Resp page = get("/v1/accounts/" + id + "/usage?limit=500&type=" + type + (cursor == null ? "" : "&cursor=" + cursor), admin());
            assertEquals(200, page.status());
            n += page.items().size();
            Object next = page.body().get("nextCursor");
            cursor = next instanceof String s ? s : null;
        } while (cursor != null);
        return n;
    }
}
