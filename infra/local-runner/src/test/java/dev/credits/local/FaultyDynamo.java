package dev.credits.local;

import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DynamoDB client in front of the DynamoDB stand-in that injects the faults it never produces:
 * a timeout after a transaction committed, and TransactionConflict cancellations.
 */
final class FaultyDynamo implements DynamoDbClient {
    private final DynamoDbClient real;
    /** Transactions to commit and then report as a client-side timeout. */
    final AtomicInteger timeoutsAfterCommit = new AtomicInteger();
    /** Transactions to cancel with TransactionConflict without applying them. */
    final AtomicInteger conflicts = new AtomicInteger();
    /** Transactions to fail before they reach DynamoDB. */
    final AtomicInteger timeoutsBeforeCommit = new AtomicInteger();
    final AtomicInteger transactions = new AtomicInteger();
    /** Every operation called, in order. */
    final java.util.List<String> calls = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    FaultyDynamo(DynamoDbClient real) {
        this.real = real;
    }

    @Override
    public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest request) {
        transactions.incrementAndGet();
        calls.add("TransactWriteItems");
        if (take(timeoutsBeforeCommit)) throw SdkClientException.create("simulated: connect timed out");
        if (take(conflicts)) {
            throw TransactionCanceledException.builder()
                    .message("Transaction cancelled (simulated conflict)")
                    .cancellationReasons(request.transactItems().stream()
                            .map(i -> CancellationReason.builder().code("TransactionConflict").message("conflict").build())
                            .toList())
                    .build();
        }
        TransactWriteItemsResponse r = real.transactWriteItems(request);
        if (take(timeoutsAfterCommit)) throw SdkClientException.create("simulated: read timed out after the write committed");
        return r;
    }

    private static boolean take(AtomicInteger counter) {
        return counter.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }

    @Override public GetItemResponse getItem(GetItemRequest r) { calls.add("GetItem"); return real.getItem(r); }
    @Override public PutItemResponse putItem(PutItemRequest r) { calls.add("PutItem"); return real.putItem(r); }
    @Override public UpdateItemResponse updateItem(UpdateItemRequest r) { calls.add("UpdateItem"); return real.updateItem(r); }
    @Override public QueryResponse query(QueryRequest r) { calls.add("Query"); return real.query(r); }
    @Override public software.amazon.awssdk.services.dynamodb.model.DeleteItemResponse deleteItem(
            software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest r) { calls.add("DeleteItem"); return real.deleteItem(r); }
    @Override public String serviceName() { return real.serviceName(); }
    @Override public void close() { }
}
