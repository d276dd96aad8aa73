package dev.credits.bench;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.services.dynamodb.model.*;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * What DynamoDB bills for a request, computed from its shape by the documented rules, because the stand-in's
 * ConsumedCapacity (moto's) is a fixed figure per request, and none for transactions. Rules: a standard write costs
 * 1 WRU per KB of the item (rounded up), a transactional write 2 per KB per item; every put of an item that has {@code ts} (a ledger
 * entry that is not usage; usage entries and their History rows have none) also writes the sparse {@code history}
 * index (projection ALL: 1 WRU per KB); a strongly consistent read costs 1 RRU per 4 KB,
 * an eventually consistent one half, a transactional one twice. Updated items are taken as under 1 KB (every item
 * this service updates is). Item sizes follow DynamoDB's rule: attribute names plus values.
 *
 * @return {write units, read units, index write units}
 */
final class Billing {
    private Billing() {}

    static double[] of(SdkRequest r) {
        return switch (r) {
            case TransactWriteItemsRequest t -> {
                double w = 0, idx = 0;
                for (TransactWriteItem i : t.transactItems()) {
                    if (i.put() != null) {
                        w += 2 * kb(size(i.put().item()));
                        if (i.put().item().containsKey("ts")) idx += kb(size(i.put().item()));
                    } else {
                        w += 2; // update, delete or condition check of a small item
                        // an update of a ledger entry rewrites its history-index copy (projection ALL)
                        if (i.update() != null && i.update().key().containsKey("sk") && !i.update().key().get("pk").s().endsWith("#day")) idx += 1;
                    }
                }
                yield new double[]{w + idx, 0, idx};
            }
            case PutItemRequest p -> {
                double idx = p.item().containsKey("ts") ? kb(size(p.item())) : 0;
                yield new double[]{kb(size(p.item())) + idx, 0, idx};
            }
            case UpdateItemRequest u -> new double[]{1, 0, 0};
            case DeleteItemRequest d -> new double[]{1, 0, 0};
            case BatchWriteItemRequest b -> {
                double w = 0, idx = 0;
                for (List<WriteRequest> l : b.requestItems().values()) {
                    for (WriteRequest wr : l) {
                        if (wr.putRequest() != null) {
                            w += kb(size(wr.putRequest().item()));
                            if (wr.putRequest().item().containsKey("ts")) idx += kb(size(wr.putRequest().item()));
                        } else {
                            w += 1;
                        }
                    }
                }
                yield new double[]{w + idx, 0, idx};
            }
            case GetItemRequest g -> new double[]{0, Boolean.TRUE.equals(g.consistentRead()) ? 1 : 0.5, 0};
            default -> new double[]{0, 0, 0};
        };
    }

    /** A Query is billed by the bytes it read: 4 KB per RRU, half for an eventually consistent one. */
    static double query(QueryRequest q, QueryResponse r) {
        long bytes = 0;
        for (Map<String, AttributeValue> item : r.items()) bytes += size(item);
        double units = Math.max(1, Math.ceil(bytes / 4096.0));
        return Boolean.TRUE.equals(q.consistentRead()) ? units : units / 2;
    }

    private static double kb(long bytes) {
        return Math.max(1, Math.ceil(bytes / 1024.0));
    }

    static long size(Map<String, AttributeValue> item) {
        long n = 0;
        for (Map.Entry<String, AttributeValue> e : item.entrySet()) n += e.getKey().getBytes(StandardCharsets.UTF_8).length + size(e.getValue());
        return n;
    }

    static long size(AttributeValue v) {
        if (v.s() != null) return v.s().getBytes(StandardCharsets.UTF_8).length;
        if (v.n() != null) return v.n().replace("-", "").replace(".", "").length() / 2 + 2;
        if (v.bool() != null || v.nul() != null) return 1;
        if (v.hasM()) return 3 + size(v.m()) + v.m().size();
        if (v.hasL()) return 3 + v.l().stream().mapToLong(x -> size(x) + 1).sum();
        return 1;
    }
}
