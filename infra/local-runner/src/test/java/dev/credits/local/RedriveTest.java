package dev.credits.local;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dead-letter redrive end to end: usage is written through the API and its ledger stream records are NOT read by
 * the stack's poller (as if the aggregator's batch had exhausted its retries); the aggregator's on-failure record, in
 * Lambda's shape, points at those records in an SQS queue on moto; {@link Redrive} reads them back from the stream on
 * the DynamoDB stand-in and hands them to the aggregator's handler. History is read with {@link TestStack#call}, which does
 * not drain the stack's poller, so what it shows is what the redrive did.
 */
class RedriveTest {
    private static SqsClient sqs;

    @BeforeAll
    static void emulator() {
        assumeTrue(messagingEndpoint() != null, "MOTO_ENDPOINT is not set: the test command starts moto server and sets it");
        assumeFalse(StackBackend.localstack(), "reads the stand-in's stream directly");
        sqs = SqsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                .endpointOverride(URI.create(messagingEndpoint()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))).build();
    }

    @Test
    void aDeadLetteredBatchIsCountedOnceTheMessageDeletedAndASecondRunChangesNothing() {
        String id = fundedAccount("redrive", "10");
        Map<String, String> positions = streamEnd();
        for (long units : new long[] {10, 20, 30}) {
            assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent(UUID.randomUUID().toString(), units)).status());
        }
        List<Record> mine = usageRecords(positions, id);
        assertEquals(3, mine.size(), "the three usage entries are in the ledger table's stream");
        Record first = mine.get(0);
        Record last = mine.get(mine.size() - 1);
        assertEquals(shardOf(first, positions), shardOf(last, positions));

        // the aggregator gave up on them: nothing in History (the grant only) or the Overview
        assertEquals(List.of(), usageIds(id));
        assertEquals(0, BigDecimal.ZERO.compareTo(overviewCredits(id)));

        String queue = queue();
        sqs.sendMessage(b -> b.queueUrl(queue).messageBody(onFailureRecord(shardOf(first, positions),
                first.dynamodb().sequenceNumber(), last.dynamodb().sequenceNumber(), 3)));

        // a dry run lists the batch and touches nothing; the message is at once visible again for the real run
        Output dry = redrive(queue, true);
        assertEquals(new Redrive.Summary(1, 0, 1, 0, 0, 0), dry.summary(), dry.text());
        assertTrue(dry.text().contains("would hand 3 of"), dry.text());
        assertEquals(List.of(), usageIds(id), "a dry run hands nothing to the function");

        Output run = redrive(queue, false);
        assertEquals(new Redrive.Summary(1, 1, 0, 0, 0, 0), run.summary(), run.text());
        assertEquals(0, run.summary().left());
        assertTrue(run.text().contains("redriven: 3 of"), run.text());
        List<String> history = usageIds(id);
        assertEquals(3, history.size(), "each usage entry is in History now: " + history);
        assertEquals(3, new HashSet<>(history).size(), "and only once");
        String overview = overview(id).raw().body();
        assertEquals(0, new BigDecimal("0.006").compareTo(overviewCredits(id)), overview); // 60 units x 0.0001
        assertEquals(0, inQueue(queue), "the message is deleted");

        Output again = redrive(queue, false);
        assertEquals(new Redrive.Summary(0, 0, 0, 0, 0, 0), again.summary(), again.text());
        assertEquals(history, usageIds(id));
        assertEquals(overview, overview(id).raw().body(), "a second run changes nothing");

        // Lambda may still deliver the same records later (the stack's poller here): still counted once
        drain();
        assertEquals(history, usageIds(id));
        assertEquals(overview, overview(id).raw().body());
    }

    @Test
    void aBatchNoLongerInTheStreamIsKeptAndReportedAndNothingChanges() {
        String id = fundedAccount("expired", "10");
        Map<String, String> positions = streamEnd();
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent(UUID.randomUUID().toString(), 10)).status());
        List<Record> mine = usageRecords(positions, id);
        assertEquals(1, mine.size());
        String shard = shardOf(mine.get(0), positions);

        String real = mine.get(0).dynamodb().sequenceNumber();
        String queue = queue();
        // before the stream's first record (trimmed, as after 24 hours), and far past its last one
        sqs.sendMessage(b -> b.queueUrl(queue).messageBody(onFailureRecord(shard, like(real, 1), like(real, 2), 2)));
        // DynamoDB's sequence numbers (and moto's) have 21 or more digits: past a long, so BigInteger
        java.math.BigInteger past = new java.math.BigInteger(real).add(java.math.BigInteger.valueOf(1_000_000));
        sqs.sendMessage(b -> b.queueUrl(queue).messageBody(onFailureRecord(shard, like(real, past),
                like(real, past.add(java.math.BigInteger.valueOf(5))), 3)));

        Output run = redrive(queue, false);
        assertEquals(new Redrive.Summary(2, 0, 0, 2, 0, 0), run.summary(), run.text());
        assertEquals(2, run.summary().left());
        assertTrue(run.text().contains("2 left in the queue"), run.text());
        assertTrue(run.text().contains("must be rebuilt from the ledger"), run.text());
        assertEquals(2, inQueue(queue), "both messages are kept, and visible again");
        assertEquals(List.of(), usageIds(id), "nothing was handed to the aggregator");
        assertEquals(0, BigDecimal.ZERO.compareTo(overviewCredits(id)));
    }

    @Test
    void aMessageInFlightElsewhereIsNotReportedAsAnEmptyQueue() {
        String id = fundedAccount("inflight", "10");
        Map<String, String> positions = streamEnd();
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent(UUID.randomUUID().toString(), 10)).status());
        List<Record> mine = usageRecords(positions, id);
        assertEquals(1, mine.size());
        String seq = mine.get(0).dynamodb().sequenceNumber();
        String queue = queue();
        sqs.sendMessage(b -> b.queueUrl(queue).messageBody(onFailureRecord(shardOf(mine.get(0), positions), seq, seq, 1)));
        // an earlier run stopped (Ctrl-C, a failed delete) while holding the message: hidden for its visibility timeout
        assertEquals(1, sqs.receiveMessage(b -> b.queueUrl(queue).visibilityTimeout(Redrive.VISIBILITY_SECONDS)).messages().size());

        Output run = redrive(queue, false);
        assertEquals(1, run.summary().left(), "the batch is still in the queue, not redriven: " + run.text());
        assertFalse(run.text().contains(" 0 left in the queue"), run.text());
        assertEquals(List.of(), usageIds(id));
    }

    // ---------------------------------------------------------------- helpers

    private record Output(Redrive.Summary summary, String text) {}

    private static Output redrive(String queue, boolean dryRun) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Redrive r = new Redrive(sqs, runner().streams(), Template.read(Template.locate()), "AggregatorFunction",
                runner().functionEnv(), out, 0);
        Redrive.Summary s = r.run(queue, dryRun);
        String text = buf.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        return new Output(s, text);
    }

    private static String queue() {
        return sqs.createQueue(b -> b.queueName("AggregatorDeadLetters-" + UUID.randomUUID())).queueUrl();
    }

    private static int inQueue(String queue) {
        Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queue).attributeNames(
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
        return Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                + Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    private static String streamArn() {
        return runner().dynamo().describeTable(b -> b.tableName("LedgerTable")).table().latestStreamArn();
    }

    /** Where each open shard of the ledger stream ends now (a LATEST iterator), so only later records are read. */
    private static Map<String, String> streamEnd() {
        String arn = streamArn();
        Map<String, String> its = new LinkedHashMap<>();
        for (Shard s : runner().streams().describeStream(b -> b.streamArn(arn)).streamDescription().shards()) {
            if (s.sequenceNumberRange() != null && s.sequenceNumberRange().endingSequenceNumber() != null) continue;
            its.put(s.shardId(), runner().streams().getShardIterator(b -> b.streamArn(arn).shardId(s.shardId())
                    .shardIteratorType(ShardIteratorType.LATEST)).shardIterator());
        }
        return its;
    }

    private static final Map<String, String> SHARD_OF = new java.util.concurrent.ConcurrentHashMap<>();

    /** The account's usage entry inserts written after those positions, in stream order, remembering their shard. */
    private static List<Record> usageRecords(Map<String, String> positions, String account) {
        List<Record> out = new ArrayList<>();
        positions.forEach((shard, start) -> {
            String it = start;
            while (it != null) {
                String current = it;
                GetRecordsResponse r = runner().streams().getRecords(b -> b.shardIterator(current).limit(1000));
                for (Record rec : r.records()) {
                    var img = rec.dynamodb().newImage();
                    if ("INSERT".equals(rec.eventNameAsString()) && img.containsKey("account") && account.equals(img.get("account").s())
                            && "entry".equals(img.get("kind").s()) && "workload_units".equals(img.get("type").s())) {
                        out.add(rec);
                        SHARD_OF.put(rec.dynamodb().sequenceNumber(), shard);
                    }
                }
                if (r.records().isEmpty()) break;
                it = r.nextShardIterator();
            }
        });
        return out;
    }

    /** A sequence number written as the stream writes them (zero-padded to the same length). */
    private static String like(String real, long n) {
        return like(real, java.math.BigInteger.valueOf(n));
    }

    private static String like(String real, java.math.BigInteger n) {
        return String.format("%0" + real.length() + "d", n);
    }

    private static String shardOf(Record r, Map<String, String> positions) {
        return SHARD_OF.get(r.dynamodb().sequenceNumber());
    }

    /** What Lambda sends the on-failure destination for a DynamoDB stream batch (a pointer, no records). */
    private static String onFailureRecord(String shard, String start, String end, int batchSize) {
        return """
                {"requestContext":{"requestId":"%s","functionArn":"arn:aws:lambda:us-east-1:000000000000:function:AggregatorFunction",\
                "condition":"RetryAttemptsExhausted","approximateInvokeCount":11},\
                "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},\
                "version":"1.0","timestamp":"2026-11-25T10:00:00.000Z",\
                "DDBStreamBatchInfo":{"shardId":"%s","startSequenceNumber":"%s","endSequenceNumber":"%s",\
                "approximateArrivalOfFirstRecord":"2026-11-25T09:59:00Z","approximateArrivalOfLastRecord":"2026-11-25T09:59:01Z",\
                "batchSize":%d,"streamArn":"%s"}}""".formatted(UUID.randomUUID(), shard, start, end, batchSize, streamArn());
    }

    /** The usage entry ids History lists (newest first), read without draining the stack's poller. */
    private static List<String> usageIds(String account) {
        Resp r = call("GET", "/v1/accounts/" + account + "/usage?limit=500", owner(account), null);
        assertEquals(200, r.status(), r.raw().body());
        assertTrue(r.items().stream().anyMatch(m -> "grant".equals(m.get("type"))), "the grant is always listed: " + r.raw().body());
        return r.items().stream().map(m -> (String) m.get("entryId")).filter(s -> s.startsWith("usage#")).toList();
    }

    private static Resp overview(String account) {
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        String tomorrow = LocalDate.now(ZoneOffset.UTC).plusDays(1).toString(); // a run across midnight UTC
        Resp r = call("GET", "/v1/accounts/" + account + "/usage/summary?from=" + today + "&to=" + tomorrow, owner(account), null);
        assertEquals(200, r.status(), r.raw().body());
        return r;
    }

    @SuppressWarnings("unchecked")
    private static BigDecimal overviewCredits(String account) {
        return (BigDecimal) ((Map<String, Object>) overview(account).body().get("totals")).get("credits");
    }
}
