package dev.credits.bench;

import dev.credits.bench.floor.FloorHandler;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.store.Clients;
import dev.credits.usage.UsageHandler;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Item 5: warm latency and throughput of recording usage in-process (UsageHandler.handleRequest with an API Gateway
 * event) against the DynamoDB stand-in (moto, one request at a time), next to the floor (one conditional UpdateItem through the same client), for 1 and
 * 32 concurrent callers, each caller on its own account. Phases alternate (usage, floor, usage, floor) so that a
 * drift of the machine's speed touches both alike.
 */
final class WarmLatency {
    private WarmLatency() {}

    interface Op { void call(int caller, long seq); }

    record Sample(long[] nanos, long count, double seconds) {}

    static void run(Fixture fx, Report report, double warmSeconds, double phaseSeconds, int rounds) throws Exception {
        DynamoDbClient client = Clients.dynamo(fx.config); // the functions' own client, as built from the environment
        UsageHandler usage = new UsageHandler(client, fx.config, PriceBookLoader.fromClasspath(), Clock.systemUTC());
        // the same handler over a client that answers at once: what the handler itself costs, without any I/O
        UsageHandler noIo = new UsageHandler(new AnsweringAtOnce(), fx.config, PriceBookLoader.fromClasspath(), Clock.systemUTC());
        FloorHandler floor = new FloorHandler(client, Fixture.ACCOUNTS);
        List<List<String>> rows = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        long run = System.currentTimeMillis();
        for (int callers : new int[]{1, 32}) {
            String[] accounts = new String[callers];
            for (int i = 0; i < callers; i++) {
                accounts[i] = "warm-" + callers + "-" + i;
                fx.account(accounts[i], 1_000_000, null);
            }
            Map<String, Op> ops = new LinkedHashMap<>();
            ops.put("usage: UsageHandler.handleRequest (201)", (c, s) -> {
                var r = usage.handleRequest(Events.object(Events.usage(accounts[c], "w" + run + "-" + c + "-" + s)), null);
                if (r.getStatusCode() != 201) throw new IllegalStateException("usage answered " + r.getStatusCode() + ": " + r.getBody());
            });
            ops.put("usage, Prefer: return=minimal (201, one request)", (c, s) -> {
                var r = usage.handleRequest(Events.object(Events.usageMinimal(accounts[c], "m" + run + "-" + c + "-" + s)), null);
                if (r.getStatusCode() != 201) throw new IllegalStateException("usage answered " + r.getStatusCode() + ": " + r.getBody());
            });
            ops.put("usage handler alone, return=minimal (DynamoDB answering at once, no I/O)", (c, s) -> {
                var r = noIo.handleRequest(Events.object(Events.usageMinimal(accounts[c], "n" + run + "-" + c + "-" + s)), null);
                if (r.getStatusCode() != 201) throw new IllegalStateException("usage answered " + r.getStatusCode() + ": " + r.getBody());
            });
            ops.put("the charge's TransactWriteItems alone (no handler)", (c, s) -> chargeTransaction(client, fx, accounts[c], "t" + run + "-" + c + "-" + s));
            ops.put("the floor's UpdateItem sent as a 1-item TransactWriteItems", (c, s) -> floorAsTransaction(client, accounts[c]));
            ops.put("floor: one conditional UpdateItem", (c, s) -> {
                if (!floor.charge(accounts[c], 1)) throw new IllegalStateException("floor refused");
            });
            ops.put("floor + consistent GetItem (the usage path's read-back)", (c, s) -> {
                floor.charge(accounts[c], 1);
                client.getItem(b -> b.tableName(Fixture.ACCOUNTS).consistentRead(true)
                        .key(Map.of("accountId", AttributeValue.builder().s(accounts[c]).build())));
            });
            Report.progress("warm latency, " + callers + " caller(s): warming up for " + warmSeconds + " s");
            for (Op op : ops.values()) phase(op, callers, warmSeconds / ops.size());
            Map<String, List<Sample>> samples = new LinkedHashMap<>();
            for (int r = 0; r < rounds; r++) {
                for (Map.Entry<String, Op> e : ops.entrySet()) {
                    Report.progress("warm latency, " + callers + " caller(s), round " + (r + 1) + "/" + rounds + ": " + e.getKey());
                    samples.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(phase(e.getValue(), callers, phaseSeconds));
                }
            }
            double floorP50 = Double.NaN;
            for (Map.Entry<String, List<Sample>> e : samples.entrySet()) {
                long total = 0;
                double secs = 0;
                List<long[]> parts = new ArrayList<>();
                for (Sample s : e.getValue()) { total += s.count(); secs += s.seconds(); parts.add(s.nanos()); }
                long[] all = parts.stream().flatMapToLong(java.util.Arrays::stream).sorted().toArray();
                double p50 = Report.pct(all, 50) / 1e6, p99 = Report.pct(all, 99) / 1e6, max = all.length == 0 ? Double.NaN : all[all.length - 1] / 1e6;
                if (e.getKey().startsWith("floor: ")) floorP50 = p50;
                double tput = total / secs;
                rows.add(new ArrayList<>(List.of(Integer.toString(callers), e.getKey(), String.format("%,d", total),
                        Report.f(p50, 2), Report.f(p99, 2), Report.f(max, 1), Report.f(tput, 0))));
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("callers", callers);
                j.put("operation", e.getKey());
                j.put("calls", total);
                j.put("p50Ms", p50);
                j.put("p99Ms", p99);
                j.put("maxMs", max);
                j.put("perSecond", tput);
                json.put(callers + ": " + e.getKey(), j);
            }
            // the ratio column, now that the floor's p50 is known
            for (List<String> row : rows) {
                if (row.size() == 7 && row.get(0).equals(Integer.toString(callers))) {
                    double p50 = Double.parseDouble(row.get(3).replace(",", ""));
                    row.add(Report.f(p50 / floorP50, 2) + "x");
                }
            }
        }
        report.json.put("warmLatency", json);
        report.add(new Report.Table("warm", "Warm latency and throughput, in-process against the DynamoDB stand-in (moto)",
                List.of("callers", "operation", "calls", "p50 ms", "p99 ms", "max ms", "calls/s", "p50 vs floor"), rows,
                List.of("warm-up " + warmSeconds + " s per concurrency, then " + rounds + " alternating rounds of " + phaseSeconds
                                + " s per operation; latency = the call's wall time in the caller's thread",
                        "each caller charges its own account (one account per caller: the hot-account case is the batch form's)",
                        "the stand-in (moto, one request at a time, in a Python process) runs on the same cores as the callers: its work is in every figure, the floor's too")));
    }

    /**
     * The shape of a usage charge without the handler: the account update under the spendable condition and a ledger
     * entry of the usual size put under attribute_not_exists, in one TransactWriteItems with
     * ReturnValuesOnConditionCheckFailure, as CreditsStore sends it. What the stand-in itself costs for a charge.
     */
    static void chargeTransaction(DynamoDbClient client, Fixture fx, String account, String eventId) {
        Map<String, AttributeValue> v = Map.of(":d", AttributeValue.fromN("-390"), ":cost", AttributeValue.fromN("390"),
                ":active", AttributeValue.fromS("ACTIVE"), ":now", AttributeValue.fromS(java.time.Instant.now().toString()),
                ":one", AttributeValue.fromN("1"));
        Map<String, AttributeValue> entry = new LinkedHashMap<>();
        String sk = "usage#" + eventId;
        entry.put("pk", AttributeValue.fromS(dev.credits.core.store.Keys.entryPk(new dev.credits.core.domain.AccountId(account), sk)));
        entry.put("sk", AttributeValue.fromS(sk));
        // no ts: a usage entry has no history-index copy (Items.entry), so this write updates no index, as the charge
        entry.put("kind", AttributeValue.fromS("entry"));
        entry.put("type", AttributeValue.fromS("ai_tokens"));
        entry.put("account", AttributeValue.fromS(account));
        entry.put("amount", AttributeValue.fromN("-390"));
        entry.put("model", AttributeValue.fromS("gpt-4o-mini"));
        entry.put("inputTokens", AttributeValue.fromN("1200"));
        entry.put("outputTokens", AttributeValue.fromN("350"));
        entry.put("requestHash", AttributeValue.fromS("9f514a14d35f01bf5ea9c05c8721ffd61f5340684593940243b860211769116a"));
        client.transactWriteItems(b -> b.transactItems(
                t -> t.update(u -> u.tableName(Fixture.ACCOUNTS).key(Map.of("accountId", AttributeValue.fromS(account)))
                        .updateExpression("SET balance = balance + :d, spendable = spendable + :d, updatedAt = :now, rev = rev + :one ADD softHeadroom :d")
                        .conditionExpression("#st = :active AND spendable >= :cost").expressionAttributeNames(Map.of("#st", "status"))
                        .expressionAttributeValues(v)
                        .returnValuesOnConditionCheckFailure(software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure.ALL_OLD)),
                t -> t.put(p -> p.tableName(fx.config.ledgerTable()).item(entry).conditionExpression("attribute_not_exists(pk)")
                        .returnValuesOnConditionCheckFailure(software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure.ALL_OLD))));
    }

    /**
     * The floor's own write (the same key, update and condition as {@code FloorHandler}) wrapped in a TransactWriteItems
     * of one item: what the stand-in's transaction path costs by itself, apart from the second item.
     */
    static void floorAsTransaction(DynamoDbClient client, String account) {
        Map<String, AttributeValue> v = Map.of(":c", AttributeValue.fromN("1"));
        client.transactWriteItems(b -> b.transactItems(t -> t.update(u -> u.tableName(Fixture.ACCOUNTS)
                .key(Map.of("accountId", AttributeValue.fromS(account)))
                .updateExpression("SET balance = balance - :c, spendable = spendable - :c")
                .conditionExpression("spendable >= :c").expressionAttributeValues(v))));
    }

    /**
     * A DynamoDB client whose TransactWriteItems succeeds at once and sends nothing: with it, a usage call's time is
     * the handler's own work (routing, JSON, pricing, the request's model objects, the log line), none of DynamoDB's.
     */
    static final class AnsweringAtOnce implements DynamoDbClient {
        @Override public String serviceName() { return "dynamodb"; }
        @Override public void close() { }
        @Override public software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse transactWriteItems(
                software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest r) {
            return software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse.builder().build();
        }
    }

    /** Runs op from {@code callers} threads for {@code seconds}; returns every call's latency. */
    static Sample phase(Op op, int callers, double seconds) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        List<long[]> lat = new ArrayList<>();
        int[] counts = new int[callers];
        AtomicLong errors = new AtomicLong();
        CountDownLatch done = new CountDownLatch(callers);
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            final int caller = c;
            long[] mine = new long[1 << 20];
            lat.add(mine);
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try {
                    int n = 0;
                    while (System.nanoTime() < deadline && n < mine.length) {
                        long t0 = System.nanoTime();
                        op.call(caller, System.nanoTime());
                        mine[n++] = System.nanoTime() - t0;
                    }
                    counts[caller] = n;
                } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    Report.progress("a call failed: " + e);
                } finally {
                    done.countDown();
                }
            });
            threads.add(t);
        }
        done.await();
        double secs = (System.nanoTime() - start) / 1e9;
        if (errors.get() > 0) throw new IllegalStateException(errors.get() + " caller(s) failed");
        long total = 0;
        for (int n : counts) total += n;
        long[] all = new long[(int) total];
        int k = 0;
        for (int c = 0; c < callers; c++) { System.arraycopy(lat.get(c), 0, all, k, counts[c]); k += counts[c]; }
        return new Sample(all, total, secs);
    }
}
