package dev.credits.local;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamSpecification;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Does the DynamoDB stand-in (moto behind infra/standin/moto_dynamodb.py) behave as DynamoDB's documentation says, in
 * every behaviour the store relies on? Each test names the behaviour and the store code that leans on it. Where the
 * stand-in cannot show a behaviour at all (TransactionConflict: with requests run one at a time no two transactions
 * ever overlap), the code's handling is tested by injection instead (FaultInjectionTest, IdempotencyTest), and the
 * difference is written down in docs/RELIABILITY.md ("The DynamoDB stand-in").
 *
 * <p>The tables here are this class's own (a fresh name per run), on the same stand-in as the stack.
 */
class StandInFidelityTest {
    private static DynamoDbClient dynamo;
    private static DynamoDbStreamsClient streams;
    private static String accounts;
    private static String ledger;

    @BeforeAll
    static void tables() {
        dynamo = TestStack.runner().dynamo();
        streams = TestStack.runner().streams();
        String run = UUID.randomUUID().toString().substring(0, 8);
        accounts = "FidelityAccounts-" + run;
        ledger = "FidelityLedger-" + run;
        StreamSpecification stream = StreamSpecification.builder().streamEnabled(true)
                .streamViewType(StreamViewType.NEW_AND_OLD_IMAGES).build();
        dynamo.createTable(b -> b.tableName(accounts).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(attr("id"))
                .keySchema(key("id", KeyType.HASH)).streamSpecification(stream));
        dynamo.createTable(b -> b.tableName(ledger).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(attr("pk"), attr("sk"), attr("ts"))
                .keySchema(key("pk", KeyType.HASH), key("sk", KeyType.RANGE))
                .globalSecondaryIndexes(GlobalSecondaryIndex.builder().indexName("history")
                        .keySchema(key("pk", KeyType.HASH), key("ts", KeyType.RANGE))
                        .projection(Projection.builder().projectionType(ProjectionType.ALL).build()).build())
                .streamSpecification(stream));
    }

    // ------------------------------------------------------------------ conditions and updates

    /** CreditsStore's charge: {@code #st = :active AND spendable >= :cost}, with SET arithmetic, no read before. */
    @Test
    void aConditionComparesNumbersAsNumbersAndTheUpdateAddsExactly() {
        String id = newId();
        put(accounts, Map.of("id", s(id), "status", s("ACTIVE"), "spendable", n("10"), "balance", n("9223372036854775000")));
        charge(id, "10"); // 10 >= 10: the boundary fits
        assertEquals("0", get(id).get("spendable").n());
        assertEquals("9223372036854774990", get(id).get("balance").n(), "arithmetic is exact past a double's 53 bits");
        // 9 < 10 as numbers, though "9" > "10" as strings
        put(accounts, Map.of("id", s(id), "status", s("ACTIVE"), "spendable", n("9"), "balance", n("9")));
        assertThrows(ConditionalCheckFailedException.class, () -> charge(id, "10"));
        assertEquals("9", get(id).get("spendable").n(), "a failed condition changes nothing");
        put(accounts, Map.of("id", s(id), "status", s("CLOSED"), "spendable", n("100"), "balance", n("100")));
        assertThrows(ConditionalCheckFailedException.class, () -> charge(id, "1"));
    }

    /** The conditions the store writes with: attribute_not_exists / attribute_exists, OR, and {@code <}. */
    @Test
    void theConditionFunctionsTheStoreUses() {
        String id = newId();
        Map<String, AttributeValue> item = Map.of("id", s(id), "status", s("ACTIVE"));
        dynamo.putItem(b -> b.tableName(accounts).item(item).conditionExpression("attribute_not_exists(id)"));
        assertThrows(ConditionalCheckFailedException.class, () ->
                dynamo.putItem(b -> b.tableName(accounts).item(item).conditionExpression("attribute_not_exists(id)")));
        assertThrows(ConditionalCheckFailedException.class, () -> dynamo.updateItem(b -> b.tableName(accounts)
                .key(Map.of("id", s(newId()))).updateExpression("SET x = :one")
                .conditionExpression("attribute_exists(id)").expressionAttributeValues(Map.of(":one", n("1")))));
        // the stop alert: armed when absent or armed; if_not_exists starts an episode counter
        String stop = "#st = :active AND (attribute_not_exists(stopAlert) OR stopAlert = :armed)";
        Map<String, AttributeValue> v = Map.of(":active", s("ACTIVE"), ":armed", s("armed"), ":pending", s("pending"),
                ":zero", n("0"), ":one", n("1"));
        Runnable arm = () -> dynamo.updateItem(b -> b.tableName(accounts).key(Map.of("id", s(id)))
                .updateExpression("SET stopAlert = :pending, stopEpisode = if_not_exists(stopEpisode, :zero) + :one")
                .conditionExpression(stop).expressionAttributeNames(Map.of("#st", "status")).expressionAttributeValues(v));
        arm.run();
        assertEquals("1", get(id).get("stopEpisode").n());
        assertThrows(ConditionalCheckFailedException.class, arm::run, "pending is neither absent nor armed");
        // refunds: attribute_not_exists(refunded) OR refunded < :r
        String refund = "attribute_not_exists(refunded) OR refunded < :r";
        dynamo.updateItem(b -> b.tableName(accounts).key(Map.of("id", s(id))).updateExpression("SET refunded = :r")
                .conditionExpression(refund).expressionAttributeValues(Map.of(":r", n("500"))));
        assertThrows(ConditionalCheckFailedException.class, () -> dynamo.updateItem(b -> b.tableName(accounts)
                .key(Map.of("id", s(id))).updateExpression("SET refunded = :r")
                .conditionExpression(refund).expressionAttributeValues(Map.of(":r", n("500")))));
    }

    /** A duplicate event is answered from the item the failed condition returns (ALL_OLD), with no second read. */
    @Test
    void aFailedSingleWriteReturnsTheItemWhenAskedForAllOld() {
        String id = newId();
        Map<String, AttributeValue> item = Map.of("id", s(id), "status", s("ACTIVE"), "charged", n("42"));
        put(accounts, item);
        ConditionalCheckFailedException put = assertThrows(ConditionalCheckFailedException.class, () ->
                dynamo.putItem(b -> b.tableName(accounts).item(Map.of("id", s(id)))
                        .conditionExpression("attribute_not_exists(id)")
                        .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)));
        assertEquals(item, put.item());
        ConditionalCheckFailedException update = assertThrows(ConditionalCheckFailedException.class, () ->
                dynamo.updateItem(b -> b.tableName(accounts).key(Map.of("id", s(id))).updateExpression("SET x = :one")
                        .conditionExpression("charged = :zero")
                        .expressionAttributeValues(Map.of(":one", n("1"), ":zero", n("0")))
                        .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)));
        assertEquals(item, update.item());
        ConditionalCheckFailedException without = assertThrows(ConditionalCheckFailedException.class, () ->
                dynamo.putItem(b -> b.tableName(accounts).item(Map.of("id", s(id)))
                        .conditionExpression("attribute_not_exists(id)")));
        assertFalse(without.hasItem(), "no item unless asked for");
    }

    // ------------------------------------------------------------------ transactions

    /**
     * The charge's transaction (account update + entry put): a cancelled transaction reports one reason per item, in
     * request order, "None" for an item that passed, ConditionalCheckFailed with ALL_OLD's item for one that did not;
     * and nothing it wrote remains, in the table or in the stream.
     */
    @Test
    void aCancelledTransactionGivesAReasonPerItemInOrderAndLeavesNoTrace() {
        String id = newId();
        put(accounts, Map.of("id", s(id), "status", s("ACTIVE"), "spendable", n("100"), "balance", n("100")));
        Map<String, AttributeValue> entry = Map.of("pk", s(id + "#0"), "sk", s("usage#e1"), "amount", n("7"));
        put(ledger, entry);
        String accountsStream = streamEnd(accounts);
        String ledgerStream = streamEnd(ledger);
        String other = newId();

        TransactionCanceledException e = assertThrows(TransactionCanceledException.class, () ->
                dynamo.transactWriteItems(b -> b.transactItems(
                        chargeItem(id, "7"), // passes
                        TransactWriteItem.builder().put(p -> p.tableName(ledger).item(entry)
                                .conditionExpression("attribute_not_exists(pk)")
                                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)).build(),
                        TransactWriteItem.builder().put(p -> p.tableName(accounts)
                                .item(Map.of("id", s(other))).conditionExpression("attribute_exists(id)")).build())));
        List<CancellationReason> reasons = e.cancellationReasons();
        assertEquals(List.of("None", "ConditionalCheckFailed", "ConditionalCheckFailed"),
                reasons.stream().map(CancellationReason::code).toList());
        assertEquals(entry, reasons.get(1).item(), "ALL_OLD's item in the reason");
        assertTrue(reasons.get(2).item() == null || reasons.get(2).item().isEmpty(), "no item where none exists");
        assertEquals("100", get(id).get("spendable").n(), "the first item's update is undone");
        assertTrue(dynamo.getItem(b -> b.tableName(accounts).key(Map.of("id", s(other)))).item().isEmpty());
        assertEquals(List.of(), recordsAfter(accounts, accountsStream), "no stream record of a cancelled transaction");
        assertEquals(List.of(), recordsAfter(ledger, ledgerStream));

        dynamo.transactWriteItems(b -> b.transactItems(chargeItem(id, "7"), TransactWriteItem.builder()
                .put(p -> p.tableName(ledger).item(Map.of("pk", s(id + "#0"), "sk", s("usage#e2")))
                        .conditionExpression("attribute_not_exists(pk)")).build()));
        assertEquals("93", get(id).get("spendable").n(), "a transaction that passes writes both");
        assertEquals(1, recordsAfter(accounts, accountsStream).size());
        assertEquals(1, recordsAfter(ledger, ledgerStream).size());
    }

    /** Batches stay within DynamoDB's limits: at most 100 items, each item once; beyond them the request fails whole. */
    @Test
    void transactionLimitsAreRefusedWhole() {
        String id = newId();
        put(accounts, Map.of("id", s(id), "status", s("ACTIVE"), "spendable", n("1000"), "balance", n("1000")));
        List<TransactWriteItem> tooMany = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            String sk = "usage#" + i;
            tooMany.add(TransactWriteItem.builder().put(p -> p.tableName(ledger)
                    .item(Map.of("pk", s(id + "#0"), "sk", s(sk)))).build());
        }
        DynamoDbException e = assertThrows(DynamoDbException.class,
                () -> dynamo.transactWriteItems(b -> b.transactItems(tooMany)));
        assertEquals(400, e.statusCode());
        assertEquals("ValidationException", e.awsErrorDetails().errorCode());
        DynamoDbException twice = assertThrows(DynamoDbException.class, () -> dynamo.transactWriteItems(b ->
                b.transactItems(chargeItem(id, "1"), chargeItem(id, "1"))));
        assertEquals("ValidationException", twice.awsErrorDetails().errorCode());
        assertEquals("1000", get(id).get("spendable").n(), "a refused transaction changes nothing");
        assertTrue(queryAll(id + "#0").isEmpty());
    }

    /** An item over 400 KB is refused (ValidationException), alone and in a transaction. */
    @Test
    void anItemOver400KilobytesIsRefused() {
        String id = newId();
        Map<String, AttributeValue> big = new HashMap<>(Map.of("id", s(id)));
        big.put("blob", AttributeValue.fromB(SdkBytes.fromByteArray(new byte[401 * 1024])));
        DynamoDbException single = assertThrows(DynamoDbException.class,
                () -> dynamo.putItem(b -> b.tableName(accounts).item(big)));
        assertEquals("ValidationException", single.awsErrorDetails().errorCode());
        DynamoDbException inTx = assertThrows(DynamoDbException.class, () -> dynamo.transactWriteItems(b ->
                b.transactItems(TransactWriteItem.builder().put(p -> p.tableName(accounts).item(big)).build())));
        assertEquals("ValidationException", inTx.awsErrorDetails().errorCode());
        assertTrue(dynamo.getItem(b -> b.tableName(accounts).key(Map.of("id", s(id)))).item().isEmpty());
    }

    // ------------------------------------------------------------------ reading

    /** History's index is sparse: only entries that carry {@code ts} are in it, newest first when read backwards. */
    @Test
    void aSparseIndexHoldsOnlyTheItemsWithItsKey() {
        String pk = newId() + "#3";
        put(ledger, Map.of("pk", s(pk), "sk", s("grant#a"), "ts", s("2026-01-01T00:00:01#grant#a")));
        put(ledger, Map.of("pk", s(pk), "sk", s("usage#b"))); // usage: no ts, not indexed
        put(ledger, Map.of("pk", s(pk), "sk", s("topup#c"), "ts", s("2026-01-01T00:00:02#topup#c")));
        QueryResponse r = dynamo.query(b -> b.tableName(ledger).indexName("history").scanIndexForward(false)
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", s(pk))));
        assertEquals(List.of("topup#c", "grant#a"), r.items().stream().map(i -> i.get("sk").s()).toList());
    }

    /**
     * History and the pager: Limit counts the items read, before the filter, and a page that stopped at Limit has a
     * LastEvaluatedKey to go on from, so a filtered page can be empty and still not be the end.
     */
    @Test
    void queryLimitCountsItemsBeforeTheFilterAndPagesGoOn() {
        String pk = newId() + "#0";
        for (int i = 1; i <= 5; i++) {
            put(ledger, Map.of("pk", s(pk), "sk", s("e#" + i), "type", s(i == 1 || i == 5 ? "grant" : "usage")));
        }
        List<String> seen = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        List<Integer> counts = new ArrayList<>();
        for (int page = 0; page < 10; page++) {
            Map<String, AttributeValue> from = start;
            QueryResponse r = dynamo.query(b -> b.tableName(ledger).keyConditionExpression("pk = :pk")
                    .filterExpression("#t = :g").expressionAttributeNames(Map.of("#t", "type"))
                    .expressionAttributeValues(Map.of(":pk", s(pk), ":g", s("grant"))).limit(2)
                    .exclusiveStartKey(from));
            assertTrue(r.scannedCount() <= 2, "Limit bounds the items read");
            counts.add(r.count());
            r.items().forEach(i -> seen.add(i.get("sk").s()));
            if (!r.hasLastEvaluatedKey() || r.lastEvaluatedKey().isEmpty()) break;
            start = r.lastEvaluatedKey();
        }
        assertEquals(List.of("e#1", "e#5"), seen);
        assertEquals(1, counts.get(0), "first page: e#1 and e#2 read, one passes the filter");
        assertEquals(0, counts.get(1), "second page: e#3 and e#4 read, none pass, yet a key to go on from");
    }

    // ------------------------------------------------------------------ streams

    /** The alert function reads each account's changes in order, with both images, once per write that changed it. */
    @Test
    void theStreamHasEveryChangeOfAnItemInOrderWithBothImages() {
        String id = newId();
        String from = streamEnd(accounts);
        put(accounts, Map.of("id", s(id), "balance", n("10")));
        for (int i = 9; i >= 7; i--) {
            String to = String.valueOf(i);
            dynamo.updateItem(b -> b.tableName(accounts).key(Map.of("id", s(id))).updateExpression("SET balance = :b")
                    .expressionAttributeValues(Map.of(":b", n(to))));
        }
        assertThrows(ConditionalCheckFailedException.class, () -> dynamo.updateItem(b -> b.tableName(accounts)
                .key(Map.of("id", s(id))).updateExpression("SET balance = :b").conditionExpression("balance = :x")
                .expressionAttributeValues(Map.of(":b", n("0"), ":x", n("999")))));
        dynamo.deleteItem(b -> b.tableName(accounts).key(Map.of("id", s(id))));
        List<Record> mine = recordsAfter(accounts, from).stream()
                .filter(r -> r.dynamodb().keys().get("id").s().equals(id)).toList();
        assertEquals(List.of("INSERT", "MODIFY", "MODIFY", "MODIFY", "REMOVE"),
                mine.stream().map(r -> r.eventNameAsString()).toList(), "a failed condition writes no record");
        assertEquals(List.of("10", "9", "8"), mine.subList(1, 4).stream()
                .map(r -> r.dynamodb().oldImage().get("balance").n()).toList());
        assertEquals(List.of("9", "8", "7"), mine.subList(1, 4).stream()
                .map(r -> r.dynamodb().newImage().get("balance").n()).toList());
        for (int i = 1; i < mine.size(); i++) {
            assertTrue(new java.math.BigInteger(mine.get(i - 1).dynamodb().sequenceNumber())
                    .compareTo(new java.math.BigInteger(mine.get(i).dynamodb().sequenceNumber())) < 0, "sequence grows");
        }
        assertNotNull(mine.get(0).dynamodb().newImage());
    }

    /**
     * The redrive tells a batch that has left the stream by the iterator's refusal: before the trim horizon
     * TrimmedDataAccessException, a number the shard never reached ValidationException (moto alone hands out an
     * iterator for both; infra/standin/moto_dynamodb.py refuses them as DynamoDB does).
     */
    @Test
    void anIteratorAtASequenceNumberTheShardDoesNotHoldIsRefused() {
        put(accounts, Map.of("id", s(newId())));
        String arn = streamArn(accounts);
        String shard = streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards().get(0).shardId();
        List<Record> all = allRecords(accounts);
        java.math.BigInteger first = new java.math.BigInteger(all.get(0).dynamodb().sequenceNumber());
        java.math.BigInteger last = new java.math.BigInteger(all.get(all.size() - 1).dynamodb().sequenceNumber());
        String before = first.subtract(java.math.BigInteger.ONE).toString();
        String past = last.add(java.math.BigInteger.valueOf(1_000)).toString();
        assertThrows(software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException.class, () ->
                streams.getShardIterator(b -> b.streamArn(arn).shardId(shard)
                        .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(before)));
        DynamoDbException e = assertThrows(DynamoDbException.class, () -> streams.getShardIterator(b -> b.streamArn(arn)
                .shardId(shard).shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(past)));
        assertEquals("ValidationException", e.awsErrorDetails().errorCode());
        String at = last.toString();
        String it = streams.getShardIterator(b -> b.streamArn(arn).shardId(shard)
                .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(at)).shardIterator();
        assertEquals(at, streams.getRecords(b -> b.shardIterator(it)).records().get(0).dynamodb().sequenceNumber());
    }

    // ------------------------------------------------------------------ helpers

    private static TransactWriteItem chargeItem(String id, String cost) {
        return TransactWriteItem.builder().update(u -> u.tableName(accounts).key(Map.of("id", s(id)))
                .updateExpression("SET balance = balance - :c, spendable = spendable - :c")
                .conditionExpression("#st = :active AND spendable >= :c")
                .expressionAttributeNames(Map.of("#st", "status"))
                .expressionAttributeValues(Map.of(":c", n(cost), ":active", s("ACTIVE")))).build();
    }

    private static void charge(String id, String cost) {
        dynamo.updateItem(b -> b.tableName(accounts).key(Map.of("id", s(id)))
                .updateExpression("SET balance = balance - :c, spendable = spendable - :c")
                .conditionExpression("#st = :active AND spendable >= :c")
                .expressionAttributeNames(Map.of("#st", "status"))
                .expressionAttributeValues(Map.of(":c", n(cost), ":active", s("ACTIVE"))));
    }

    private static List<Map<String, AttributeValue>> queryAll(String pk) {
        return dynamo.query(b -> b.tableName(ledger).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s(pk)))).items();
    }

    private static Map<String, AttributeValue> get(String id) {
        return dynamo.getItem(b -> b.tableName(accounts).key(Map.of("id", s(id))).consistentRead(true)).item();
    }

    private static void put(String table, Map<String, AttributeValue> item) {
        dynamo.putItem(b -> b.tableName(table).item(item));
    }

    private static String streamArn(String table) {
        return dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
    }

    /** The shard's current end, as an iterator position: the number of records in it now. */
    private static String streamEnd(String table) {
        return String.valueOf(allRecords(table).size());
    }

    private static List<Record> recordsAfter(String table, String position) {
        List<Record> all = allRecords(table);
        return List.copyOf(all.subList(Integer.parseInt(position), all.size()));
    }

    /** Every record of every shard of the table's stream, in shard order (bounded: at most 10,000 pages). */
    private static List<Record> allRecords(String table) {
        String arn = streamArn(table);
        List<Record> out = new ArrayList<>();
        for (var shard : streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards()) {
            String it = streams.getShardIterator(b -> b.streamArn(arn).shardId(shard.shardId())
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
            for (int page = 0; page < 10_000 && it != null; page++) {
                String current = it;
                var r = streams.getRecords(b -> b.shardIterator(current).limit(1000));
                out.addAll(r.records());
                if (r.records().isEmpty()) break;
                it = r.nextShardIterator();
            }
        }
        return out;
    }

    private static String newId() {
        return "fid-" + UUID.randomUUID();
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static AttributeValue n(String v) {
        return AttributeValue.fromN(v);
    }

    private static AttributeDefinition attr(String name) {
        return AttributeDefinition.builder().attributeName(name).attributeType(ScalarAttributeType.S).build();
    }

    private static KeySchemaElement key(String name, KeyType type) {
        return KeySchemaElement.builder().attributeName(name).keyType(type).build();
    }
}
