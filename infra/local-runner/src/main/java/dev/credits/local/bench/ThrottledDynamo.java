package dev.credits.local.bench;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stand-in never throttles; DynamoDB does, per partition: about 1,000 write units per second for one partition
 * key (an item lives on one partition), and an index's partitions have their own limit. This client in front of
 * It charges every write to the partition keys it touches (a transactional item write costs 2 units per
 * KB, a plain one 1; each write of an item that carries the index's sort key {@code ts} (the entries that are not
 * usage) also writes its history-index entry, 1 unit, under the same pk on the index) and refuses a request, as DynamoDB does, when it would take any partition past its limit in the current
 * second. Nothing is written when a request is refused.
 */
public final class ThrottledDynamo implements DynamoDbClient {
    public static final long PARTITION_WCU_PER_SECOND = 1_000;

    private final DynamoDbClient real;
    private final java.util.function.LongSupplier millis;
    private final Map<String, Long> usedThisSecond = new HashMap<>();
    /** The most units any one partition took in any one second, and which partition that was. */
    private long peakUnits;
    private String peakPartition = "-";
    private long second = -1;
    final AtomicLong throttled = new AtomicLong();
    final AtomicLong writeUnits = new AtomicLong();

    public ThrottledDynamo(DynamoDbClient real) {
        this(real, System::currentTimeMillis);
    }

    /** @param millis the clock the per-second budgets follow: wall time, or a simulation's virtual time */
    public ThrottledDynamo(DynamoDbClient real, java.util.function.LongSupplier millis) {
        this.real = real;
        this.millis = millis;
    }

    public synchronized long peakUnits() { return peakUnits; }
    public synchronized String peakPartition() { return peakPartition; }

    public long throttled() { return throttled.get(); }
    public long writeUnits() { return writeUnits.get(); }

    /** Charges the units, or throws without charging when a partition would go past its limit. */
    private synchronized void charge(Map<String, Long> units) {
        long now = millis.getAsLong() / 1000;
        if (now != second) { second = now; usedThisSecond.clear(); }
        for (Map.Entry<String, Long> e : units.entrySet()) {
            if (usedThisSecond.getOrDefault(e.getKey(), 0L) + e.getValue() > PARTITION_WCU_PER_SECOND) {
                throttled.incrementAndGet();
                throw ProvisionedThroughputExceededException.builder()
                        .message("simulated: partition " + e.getKey() + " is over " + PARTITION_WCU_PER_SECOND + " WCU/s").build();
            }
        }
        units.forEach((k, v) -> {
            long used = usedThisSecond.merge(k, v, Long::sum);
            writeUnits.addAndGet(v);
            if (used > peakUnits) { peakUnits = used; peakPartition = k; }
        });
    }

    private static long kb(Map<String, AttributeValue> item) {
        long bytes = 0;
        for (Map.Entry<String, AttributeValue> e : item.entrySet()) bytes += e.getKey().length() + size(e.getValue());
        return Math.max(1, (bytes + 1023) / 1024);
    }

    private static long size(AttributeValue v) {
        if (v.s() != null) return v.s().length();
        if (v.n() != null) return v.n().length();
        if (v.hasM()) { long b = 3; for (var e : v.m().entrySet()) b += e.getKey().length() + size(e.getValue()); return b; }
        return 8;
    }

    private static String pk(String table, Map<String, AttributeValue> key) {
        AttributeValue pk = key.containsKey("pk") ? key.get("pk") : key.get("accountId");
        return table + ":" + (pk == null ? "?" : pk.s());
    }

    private static void add(Map<String, Long> units, String table, Map<String, AttributeValue> key, long u, boolean ledgerEntry) {
        units.merge(pk(table, key), u, Long::sum);
        if (ledgerEntry) units.merge("history-index:" + pk(table, key), 1L, Long::sum);
    }

    @Override
    public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest r) {
        Map<String, Long> units = new HashMap<>();
        for (TransactWriteItem i : r.transactItems()) {
            if (i.put() != null) add(units, i.put().tableName(), i.put().item(), 2 * kb(i.put().item()), i.put().item().containsKey("ts"));
            if (i.update() != null) add(units, i.update().tableName(), i.update().key(), 2, false);
            if (i.conditionCheck() != null) add(units, i.conditionCheck().tableName(), i.conditionCheck().key(), 2, false);
        }
        charge(units);
        return real.transactWriteItems(r);
    }

    @Override
    public PutItemResponse putItem(PutItemRequest r) {
        Map<String, Long> units = new HashMap<>();
        add(units, r.tableName(), r.item(), kb(r.item()), r.item().containsKey("ts"));
        charge(units);
        return real.putItem(r);
    }

    @Override
    public UpdateItemResponse updateItem(UpdateItemRequest r) {
        Map<String, Long> units = new HashMap<>();
        add(units, r.tableName(), r.key(), 1, false);
        charge(units);
        return real.updateItem(r);
    }

    @Override public GetItemResponse getItem(GetItemRequest r) { return real.getItem(r); }
    @Override public QueryResponse query(QueryRequest r) { return real.query(r); }
    @Override public String serviceName() { return real.serviceName(); }
    @Override public void close() { }
}
