package dev.credits.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import dev.credits.core.json.Json;
import dev.credits.core.store.Clients;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.io.PrintStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The way back for a DynamoDB stream batch that exhausted its retries. Lambda's on-failure destination (the
 * {@code AggregatorDeadLetters} / {@code AlertDeadLetters} queues) receives only a pointer to the batch (shard and
 * sequence range, {@code DDBStreamBatchInfo}); this reads those records back from the stream, filters and converts
 * them as the event source does ({@link StreamPoller#batch}, with the template's FilterCriteria), hands them to the
 * function's own handler class, built from the environment, and deletes the message only when the handler reports no
 * batch item failures. The handlers are idempotent, so a batch counted meanwhile is not counted twice.
 *
 * <p>A stream keeps records for 24 hours: a message whose records are gone is kept and reported; its usage then needs
 * a rebuild from the ledger. Run with {@code make redrive QUEUE=<url> FUNCTION=AggregatorFunction [DRY_RUN=1]}.
 */
public final class Redrive {
    /** How long a received message stays hidden from other readers while its batch is redriven. */
    static final int VISIBILITY_SECONDS = 300;
    /** Empty GetRecords pages in a row after which an open shard is taken to hold nothing more of the range. */
    static final int MAX_EMPTY_PAGES = 20;

    /** What became of one message. */
    enum Outcome {
        /** the handler took the batch without failures; the message is deleted */
        REDRIVEN,
        /** dry run: listed, left in the queue */
        LISTED,
        /** the batch's records are no longer (or never were) in the stream; kept, needs a rebuild from the ledger */
        NOT_IN_STREAM,
        /** the handler reported failures or threw, or the stream could not be read now; kept, try again */
        FAILED,
        /** not an on-failure record of a DynamoDB stream batch (or of another stream); kept */
        UNREADABLE
    }

    /**
     * Counts per outcome; {@link #left()} is how many messages are still in the queue: the ones received and kept, and
     * {@code unreceived} ones this run never got (in flight elsewhere: another run, or one stopped within the last
     * {@value #VISIBILITY_SECONDS} s, still hides them).
     */
    public record Summary(int messages, int redriven, int listed, int notInStream, int failed, int unreadable, int unreceived) {
        public Summary(int messages, int redriven, int listed, int notInStream, int failed, int unreadable) {
            this(messages, redriven, listed, notInStream, failed, unreadable, 0);
        }

        public int left() { return messages - redriven + unreceived; }
    }

    private final SqsClient sqs;
    private final DynamoDbStreamsClient streams;
    private final String function;
    private final RequestHandler<DynamodbEvent, StreamsEventResponse> handler;
    private final List<Map<String, Object>> patterns;
    /** The physical name of the table whose stream the function reads, when the environment names it. */
    private final String expectedTable;
    private final PrintStream out;
    private final int waitSeconds;

    /**
     * @param function the function's logical id in template.yaml (AggregatorFunction, AlertFunction)
     * @param env      the function's environment (table names, topic, endpoint overrides), as deployed
     */
    @SuppressWarnings("unchecked")
    public Redrive(SqsClient sqs, DynamoDbStreamsClient streams, Template template, String function,
                   Map<String, String> env, PrintStream out, int waitSeconds) {
        Template.Function fn = template.functions().stream().filter(f -> f.logicalId().equals(function)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no function " + function + " in template.yaml"));
        if (fn.streams().size() != 1) {
            throw new IllegalArgumentException(function + " is not fed by exactly one DynamoDB stream in template.yaml");
        }
        Template.StreamSource source = fn.streams().get(0);
        this.sqs = sqs;
        this.streams = streams;
        this.function = function;
        this.patterns = StreamPoller.parsePatterns(source.tableLogicalId(), source.filterPatterns());
        this.expectedTable = tableName(fn, source.tableLogicalId(), env);
        this.handler = (RequestHandler<DynamodbEvent, StreamsEventResponse>) LocalRunner.instantiate(fn.handlerClass(), env);
        this.out = out;
        this.waitSeconds = waitSeconds;
    }

    /** The table's name from the function's environment: the variable the template sets to a Ref of that table. */
    private static String tableName(Template.Function fn, String tableLogicalId, Map<String, String> env) {
        for (Map.Entry<String, Object> e : fn.environment().entrySet()) {
            if (e.getValue() instanceof Map<?, ?> m && tableLogicalId.equals(m.get("Ref"))) return env.get(e.getKey());
        }
        return null;
    }

    /** Works through every message visible in the queue once; kept messages are made visible again at the end. */
    public Summary run(String queueUrl, boolean dryRun) {
        Set<String> seen = new HashSet<>();
        List<String> kept = new ArrayList<>();
        Map<Outcome, Integer> counts = new HashMap<>();
        out.println("redrive: " + function + (dryRun ? " (dry run: nothing is handed to the function or deleted)" : "")
                + ", queue " + queueUrl);
        try {
            while (true) {
                List<Message> got = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                        .waitTimeSeconds(waitSeconds).visibilityTimeout(VISIBILITY_SECONDS)).messages();
                List<Message> fresh = got.stream().filter(m -> seen.add(m.messageId())).toList();
                if (fresh.isEmpty()) {
                    got.forEach(m -> kept.add(m.receiptHandle()));
                    break;
                }
                for (Message m : fresh) {
                    Outcome o = handle(m, dryRun);
                    counts.merge(o, 1, Integer::sum);
                    if (o == Outcome.REDRIVEN) {
                        sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
                    } else {
                        kept.add(m.receiptHandle());
                    }
                }
            }
        } finally {
            // what is left is visible again at once: for another run, or for whoever rebuilds from the ledger
            for (String receipt : kept) {
                try {
                    sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl).receiptHandle(receipt).visibilityTimeout(0));
                } catch (RuntimeException e) {
                    out.println("  (could not make a kept message visible again: " + e.getClass().getSimpleName()
                            + "; it reappears after " + VISIBILITY_SECONDS + " s)");
                }
            }
        }
        int redriven = counts.getOrDefault(Outcome.REDRIVEN, 0);
        // an empty receive does not mean an empty queue: messages another run holds (or one stopped without making
        // them visible again) are hidden from this one; "nothing left" must not be said while they are there
        int unreceived;
        try {
            unreceived = Math.max(0, inQueue(queueUrl) - (seen.size() - redriven));
        } catch (RuntimeException e) {
            unreceived = 0;
            out.println("  (could not count the queue's messages: " + e.getClass().getSimpleName() + "; check it is empty)");
        }
        Summary s = new Summary(seen.size(), redriven, counts.getOrDefault(Outcome.LISTED, 0),
                counts.getOrDefault(Outcome.NOT_IN_STREAM, 0), counts.getOrDefault(Outcome.FAILED, 0),
                counts.getOrDefault(Outcome.UNREADABLE, 0), unreceived);
        out.println("summary: " + s.messages() + " message(s): " + s.redriven() + " redriven and deleted, "
                + (dryRun ? s.listed() + " listed, " : "")
                + s.notInStream() + " no longer in the stream, " + s.failed() + " failed, " + s.unreadable() + " unreadable; "
                + s.left() + " left in the queue");
        if (s.unreceived() > 0) {
            out.println("  " + s.unreceived() + " more message(s) in the queue were not received: in flight elsewhere (another run,"
                    + " or one stopped within the last " + VISIBILITY_SECONDS + " s); run again once they are visible");
        }
        if (s.notInStream() > 0) {
            out.println("  the records of " + s.notInStream() + " batch(es) have left the stream (24 h retention): their usage must"
                    + " be rebuilt from the ledger (the entries in each batch's time range); the messages stay in the queue until then");
        }
        if (s.failed() > 0) out.println("  " + s.failed() + " batch(es) failed again: find the cause in the log above, then run again");
        return s;
    }

    /** Messages in the queue now, visible or not (SQS's approximate counts). */
    private int inQueue(String queueUrl) {
        Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
        return Integer.parseInt(a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0"))
                + Integer.parseInt(a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0"));
    }

    /** One dead-letter message: read its batch back from the stream and hand it to the function (or only list it). */
    Outcome handle(Message m, boolean dryRun) {
        String tag = "message " + m.messageId();
        Batch b;
        try {
            b = Batch.parse(m.body());
        } catch (IllegalArgumentException e) {
            out.println(tag + ": kept, not a DynamoDB stream batch's on-failure record (" + e.getMessage() + ")");
            return Outcome.UNREADABLE;
        }
        out.println(tag + ": " + b.describe());
        String table = b.tableName();
        if (expectedTable != null && !expectedTable.equals(table)) {
            out.println("  kept: the batch is from table " + table + "'s stream, but " + function + " reads " + expectedTable
                    + " (wrong queue or wrong FUNCTION?)");
            return Outcome.UNREADABLE;
        }
        List<Record> records;
        try {
            records = read(b);
        } catch (TrimmedDataAccessException e) {
            out.println("  kept: the records have been trimmed from the stream (older than 24 h); rebuild this batch's usage from the ledger");
            return Outcome.NOT_IN_STREAM;
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? e.getClass().getSimpleName() : e.awsErrorDetails().errorCode();
            // only answers about the records themselves mean "not in the stream": a sequence number the stream does not
            // hold (ValidationException) or a stream that is gone (ResourceNotFoundException).
            // Denied access, expired credentials or an expired iterator say nothing about the records: run again.
            if (code != null && Set.of("ValidationException", "ResourceNotFoundException").contains(code)) {
                out.println("  kept: the stream has no such records (" + code + "); rebuild this batch's usage from the ledger");
                return Outcome.NOT_IN_STREAM;
            }
            out.println("  kept: the stream could not be read now (" + code + (e.statusCode() == 400 || e.statusCode() == 403
                    ? ": check the credentials and the permission to read the stream" : "") + "); run again later");
            return Outcome.FAILED;
        } catch (RuntimeException e) {
            out.println("  kept: the stream could not be read now (" + e.getClass().getSimpleName() + "); run again later");
            return Outcome.FAILED;
        }
        if (!complete(b, records)) {
            out.println("  kept: " + records.size() + " of the batch's " + b.batchSize() + " records are still in the stream"
                    + " (the rest expired or never existed); rebuild this batch's usage from the ledger");
            return Outcome.NOT_IN_STREAM;
        }
        List<DynamodbEvent.DynamodbStreamRecord> batch = StreamPoller.batch(records, patterns);
        if (dryRun) {
            out.println("  would hand " + batch.size() + " of " + records.size() + " records (the rest filtered out) to " + function);
            return Outcome.LISTED;
        }
        if (!batch.isEmpty()) {
            DynamodbEvent event = new DynamodbEvent();
            event.setRecords(batch);
            StreamsEventResponse resp;
            try {
                resp = handler.handleRequest(event, new LocalContext(function + "-redrive"));
            } catch (RuntimeException e) {
                out.println("  kept: " + function + " threw " + e.getClass().getSimpleName() + "; run again once the cause is fixed");
                return Outcome.FAILED;
            }
            if (resp != null && resp.getBatchItemFailures() != null && !resp.getBatchItemFailures().isEmpty()) {
                out.println("  kept: " + function + " reported " + resp.getBatchItemFailures().size()
                        + " failed record(s), from sequence number " + resp.getBatchItemFailures().get(0).getItemIdentifier());
                return Outcome.FAILED;
            }
        }
        out.println("  redriven: " + batch.size() + " of " + records.size() + " records handed to " + function
                + (batch.isEmpty() ? " (none passes the filter: nothing to do)" : "") + "; message deleted");
        return Outcome.REDRIVEN;
    }

    /** The batch's whole range: the first record is the start, the last the end, and there are batchSize or more. */
    private static boolean complete(Batch b, List<Record> records) {
        if (records.isEmpty() || records.size() < b.batchSize()) return false;
        return seq(records.get(0)).equals(b.startNumber()) && seq(records.get(records.size() - 1)).equals(b.endNumber());
    }

    /** The shard's records from startSequenceNumber up to and including endSequenceNumber, no others. */
    private List<Record> read(Batch b) {
        String it = streams.getShardIterator(r -> r.streamArn(b.streamArn()).shardId(b.shardId())
                .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(b.start())).shardIterator();
        List<Record> out = new ArrayList<>();
        int empty = 0;
        while (it != null) {
            String current = it;
            GetRecordsResponse r = streams.getRecords(q -> q.shardIterator(current).limit(1000));
            for (Record rec : r.records()) {
                BigInteger s = seq(rec);
                if (s.compareTo(b.startNumber()) < 0) continue;
                if (s.compareTo(b.endNumber()) > 0) return out;
                out.add(rec);
            }
            if (!out.isEmpty() && seq(out.get(out.size() - 1)).equals(b.endNumber())) return out;
            empty = r.records().isEmpty() ? empty + 1 : 0;
            if (empty >= MAX_EMPTY_PAGES) return out; // an open shard with nothing more of the range
            it = r.nextShardIterator();
        }
        return out; // a closed shard ended
    }

    private static BigInteger seq(Record r) {
        return new BigInteger(r.dynamodb().sequenceNumber());
    }

    /** The on-failure record's DDBStreamBatchInfo (and what it says about the failure, for the output). */
    record Batch(String streamArn, String shardId, String start, String end, int batchSize,
                 String condition, String firstArrival, String lastArrival, String failedAt) {

        /** Sequence numbers are decimal strings of varying length: compared as numbers, passed on as written. */
        BigInteger startNumber() { return new BigInteger(start); }
        BigInteger endNumber() { return new BigInteger(end); }

        @SuppressWarnings("unchecked")
        static Batch parse(String body) {
            Map<String, Object> doc;
            try {
                doc = Json.parseObject(body);
            } catch (Json.MalformedJsonException e) {
                throw new IllegalArgumentException("not JSON");
            }
            if (!(doc.get("DDBStreamBatchInfo") instanceof Map<?, ?> info)) throw new IllegalArgumentException("no DDBStreamBatchInfo");
            Map<String, Object> ctx = doc.get("requestContext") instanceof Map<?, ?> c ? (Map<String, Object>) c : Map.of();
            try {
                Batch b = new Batch(text(info, "streamArn"), text(info, "shardId"), text(info, "startSequenceNumber"),
                        text(info, "endSequenceNumber"), new java.math.BigDecimal(text(info, "batchSize")).intValueExact(),
                        optional(ctx, "condition"), optional(info, "approximateArrivalOfFirstRecord"),
                        optional(info, "approximateArrivalOfLastRecord"), optional(doc, "timestamp"));
                b.startNumber();
                b.endNumber();
                return b;
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("a sequence number or batchSize is not a number");
            }
        }

        private static String text(Map<?, ?> m, String key) {
            Object v = m.get(key);
            if (v == null || v == Json.NULL || v.toString().isBlank()) throw new IllegalArgumentException("no " + key);
            return v.toString();
        }

        private static String optional(Map<?, ?> m, String key) {
            Object v = m.get(key);
            return v == null || v == Json.NULL ? "?" : v.toString();
        }

        /** arn:aws:dynamodb:region:account:table/NAME/stream/LABEL: the NAME. */
        String tableName() {
            int t = streamArn.indexOf(":table/");
            if (t < 0) return "?";
            String rest = streamArn.substring(t + ":table/".length());
            int s = rest.indexOf("/stream/");
            return s < 0 ? rest : rest.substring(0, s);
        }

        String describe() {
            return batchSize + " record(s) of " + tableName() + " shard " + shardId + ", sequence " + start + ".." + end
                    + ", first written " + firstArrival + ", given up " + failedAt + " (" + condition + ")";
        }
    }

    // ---------------------------------------------------------------- command line

    /**
     * {@code Redrive --queue URL --function AggregatorFunction|AlertFunction [--dry-run] [--wait SECONDS]}. Credentials and
     * region from the standard AWS environment variables; the function's own variables (ACCOUNTS_TABLE, LEDGER_TABLE,
     * ALERTS_TOPIC_ARN) as deployed; SQS_ENDPOINT, AWS_ENDPOINT_URL_DYNAMODB (and AWS_ENDPOINT_URL_DYNAMODB_STREAMS, default the
     * DynamoDB one) and SNS_ENDPOINT for local stand-ins. Exit status 0 when nothing is left in the queue, 1 when
     * something is (a dry run leaves everything), 2 on a usage error.
     */
    public static void main(String[] args) {
        String queue = null;
        String function = null;
        boolean dryRun = false;
        int wait = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--queue" -> queue = i + 1 < args.length ? args[++i] : null;
                case "--function" -> function = i + 1 < args.length ? args[++i] : null;
                case "--dry-run" -> dryRun = true;
                case "--wait" -> {
                    try {
                        wait = i + 1 < args.length ? Integer.parseInt(args[++i]) : wait;
                    } catch (NumberFormatException e) {
                        usage("--wait takes whole seconds");
                    }
                }
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (queue == null || queue.isBlank()) usage("--queue <dead-letter queue URL> is required");
        if (function == null || function.isBlank()) usage("--function AggregatorFunction|AlertFunction is required");

        Map<String, String> env = new HashMap<>(System.getenv());
        if (blank(env.get("AWS_REGION")) && !blank(env.get("AWS_DEFAULT_REGION"))) env.put("AWS_REGION", env.get("AWS_DEFAULT_REGION"));
        env.putIfAbsent("AWS_REGION", "us-east-1");
        String region = env.get("AWS_REGION");
        Template template = Template.read(Template.locate());
        if (!blank(env.get("AWS_ENDPOINT_URL_DYNAMODB"))) {
            // against a local stand-in, tables are named by their logical ids (as the local runner creates them)
            Set<String> tables = new HashSet<>();
            template.tables().forEach(t -> tables.add(t.logicalId()));
            for (Template.Function f : template.functions()) {
                f.environment().forEach((var, v) -> {
                    if (v instanceof Map<?, ?> m && m.get("Ref") instanceof String ref && tables.contains(ref) && blank(env.get(var))) {
                        env.put(var, ref);
                    }
                });
            }
        }
        for (String var : List.of("ACCOUNTS_TABLE", "LEDGER_TABLE")) {
            if (blank(env.get(var))) usage(var + " is not set: give the function's environment as deployed"
                    + " (aws lambda get-function-configuration --function-name <name> --query Environment.Variables)");
        }
        String streamsEndpoint = blank(env.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS")) ? env.get("AWS_ENDPOINT_URL_DYNAMODB") : env.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS");
        Clients.Timeouts timeouts = new Clients.Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(90));
        Summary s;
        try (SqsClient sqs = Clients.configure(SqsClient.builder(), region, env.get("SQS_ENDPOINT"), timeouts).build();
             DynamoDbStreamsClient streams = Clients.configure(DynamoDbStreamsClient.builder(), region, streamsEndpoint, timeouts).build()) {
            Redrive redrive;
            try {
                redrive = new Redrive(sqs, streams, template, function, env, System.out, wait);
            } catch (IllegalArgumentException | IllegalStateException e) {
                // an unknown function, or its environment incomplete (the handler reads it at once): misuse, exit 2
                Throwable root = e;
                while (root.getCause() != null) root = root.getCause();
                usage(root == e ? e.getMessage() : e.getMessage() + ": " + root.getMessage());
                return;
            }
            s = redrive.run(queue, dryRun);
        } catch (software.amazon.awssdk.core.exception.SdkException e) {
            // a wrong queue URL, no credentials, no network: one line, not a stack trace
            System.err.println("redrive: stopped: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(s.left() == 0 ? 0 : 1);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static void usage(String problem) {
        System.err.println("redrive: " + problem);
        System.err.println("usage: Redrive --queue <dead-letter queue URL> --function AggregatorFunction|AlertFunction [--dry-run] [--wait SECONDS]");
        System.exit(2);
    }
}
