package dev.credits.bench;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.model.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Counts DynamoDB requests and the capacity they consumed. The handlers never ask for ConsumedCapacity, so this
 * interceptor sets {@code ReturnConsumedCapacity = INDEXES} (table and each index) on every request that takes it,
 * and reads the figures back from the responses. A request that fails (a cancelled transaction, a failed condition)
 * returns no ConsumedCapacity: it is counted, and its units are marked unreported.
 */
final class Capacity implements ExecutionInterceptor {
    /** One DynamoDB API call as seen by the client (the SDK's own retries are attempts within it). */
    record Call(String operation, boolean ok, String error, double read, double write, double indexWrite, int attempts,
                double billedWrite, double billedRead, double billedIndex) {}

    private static final software.amazon.awssdk.core.interceptor.ExecutionAttribute<double[]> BILLED =
            new software.amazon.awssdk.core.interceptor.ExecutionAttribute<>("bench.billed");

    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private static final software.amazon.awssdk.core.interceptor.ExecutionAttribute<int[]> ATTEMPTS =
            new software.amazon.awssdk.core.interceptor.ExecutionAttribute<>("bench.attempts");

    void reset() { calls.clear(); }

    List<Call> calls() { return new ArrayList<>(calls); }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attrs) {
        attrs.putAttribute(ATTEMPTS, new int[1]);
        attrs.putAttribute(BILLED, Billing.of(context.request()));
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attrs) {
        int[] a = attrs.getAttribute(ATTEMPTS);
        if (a != null) a[0]++;
    }

    @Override
    public SdkRequest modifyRequest(Context.ModifyRequest context, ExecutionAttributes attrs) {
        SdkRequest r = context.request();
        ReturnConsumedCapacity all = ReturnConsumedCapacity.INDEXES;
        return switch (r) {
            case PutItemRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case UpdateItemRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case DeleteItemRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case GetItemRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case QueryRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case ScanRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case BatchWriteItemRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case BatchGetItemRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case TransactWriteItemsRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            case TransactGetItemsRequest x -> x.toBuilder().returnConsumedCapacity(all).build();
            default -> r;
        };
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attrs) {
        SdkResponse r = context.response();
        List<ConsumedCapacity> cc = switch (r) {
            case PutItemResponse x -> one(x.consumedCapacity());
            case UpdateItemResponse x -> one(x.consumedCapacity());
            case DeleteItemResponse x -> one(x.consumedCapacity());
            case GetItemResponse x -> one(x.consumedCapacity());
            case QueryResponse x -> one(x.consumedCapacity());
            case ScanResponse x -> one(x.consumedCapacity());
            case BatchWriteItemResponse x -> x.consumedCapacity();
            case BatchGetItemResponse x -> x.consumedCapacity();
            case TransactWriteItemsResponse x -> x.consumedCapacity();
            case TransactGetItemsResponse x -> x.consumedCapacity();
            default -> List.of();
        };
        double read = 0, write = 0, indexWrite = 0;
        boolean op = isRead(context.request());
        for (ConsumedCapacity c : cc) {
            // a stand-in may fill only CapacityUnits (and sometimes nothing else): attribute it by the operation's kind
            double tableRead = c.table() != null && c.table().readCapacityUnits() != null ? c.table().readCapacityUnits() : 0;
            double tableWrite = c.table() != null && c.table().writeCapacityUnits() != null ? c.table().writeCapacityUnits() : 0;
            double idxWrite = 0, idxRead = 0;
            if (c.globalSecondaryIndexes() != null) {
                for (Capacity0 x : Capacity0.of(c.globalSecondaryIndexes())) { idxWrite += x.write; idxRead += x.read; }
            }
            if (tableRead + tableWrite + idxWrite + idxRead == 0 && c.capacityUnits() != null) {
                if (op) tableRead = c.capacityUnits(); else tableWrite = c.capacityUnits();
            }
            read += tableRead + idxRead;
            write += tableWrite + idxWrite;
            indexWrite += idxWrite;
        }
        int[] a = attrs.getAttribute(ATTEMPTS);
        double[] billed = attrs.getAttribute(BILLED);
        if (context.request() instanceof QueryRequest q && r instanceof QueryResponse qr) billed = new double[]{0, Billing.query(q, qr), 0};
        calls.add(new Call(name(context.request()), true, null, read, write, indexWrite, a == null ? 1 : a[0], billed[0], billed[1], billed.length > 2 ? billed[2] : 0));
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attrs) {
        int[] a = attrs.getAttribute(ATTEMPTS);
        Throwable t = context.exception();
        String code = t instanceof TransactionCanceledException tce
                ? "TransactionCanceled" + tce.cancellationReasons().stream().map(CancellationReason::code).toList()
                : t.getClass().getSimpleName();
        double[] billed = attrs.getAttribute(BILLED);
        // a failed conditional write is billed like the write it would have been; nothing goes to an index
        calls.add(new Call(name(context.request()), false, code, Double.NaN, Double.NaN, Double.NaN, a == null ? 1 : a[0],
                billed[0] - billed[2], billed[1], 0));
    }

    private static boolean isRead(SdkRequest r) {
        return r instanceof GetItemRequest || r instanceof QueryRequest || r instanceof ScanRequest
                || r instanceof BatchGetItemRequest || r instanceof TransactGetItemsRequest;
    }

    private static List<ConsumedCapacity> one(ConsumedCapacity c) {
        return c == null ? List.of() : List.of(c);
    }

    private static String name(SdkRequest r) {
        String n = r.getClass().getSimpleName();
        return n.endsWith("Request") ? n.substring(0, n.length() - "Request".length()) : n;
    }

    private record Capacity0(double read, double write) {
        static List<Capacity0> of(Map<String, software.amazon.awssdk.services.dynamodb.model.Capacity> m) {
            List<Capacity0> out = new ArrayList<>();
            m.values().forEach(c -> out.add(new Capacity0(
                    c.readCapacityUnits() == null ? 0 : c.readCapacityUnits(),
                    c.writeCapacityUnits() == null ? (c.capacityUnits() == null ? 0 : c.capacityUnits()) : c.writeCapacityUnits())));
            return out;
        }
    }
}
