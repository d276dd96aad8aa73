package dev.credits.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import dev.credits.core.json.Json;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.ExpiredIteratorException;
import software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The local stand-in for Lambda's DynamoDB Streams event source: polls a table's stream on the DynamoDB stand-in, applies
 * the template's filter patterns, and hands the records to the same handler as a real {@link DynamodbEvent}.
 * A batch whose handler reports failures is retried from the first failed record on the next poll.
 */
public final class StreamPoller {
    private final String table;
    private final DynamoDbClient dynamo;
    private final DynamoDbStreamsClient streams;
    private final RequestHandler<DynamodbEvent, StreamsEventResponse> handler;
    private final List<Map<String, Object>> patterns;
    private final Map<String, String> iterators = new HashMap<>();
    private final Set<String> finished = new HashSet<>();
    /** Last sequence number handed to the handler successfully, per shard: where to resume after an error. */
    private final Map<String, String> checkpoints = new HashMap<>();
    private String streamArn;

    public StreamPoller(String table, DynamoDbClient dynamo, DynamoDbStreamsClient streams,
                        RequestHandler<DynamodbEvent, StreamsEventResponse> handler, List<String> filterPatterns) {
        this.table = table;
        this.dynamo = dynamo;
        this.streams = streams;
        this.handler = handler;
        this.patterns = parsePatterns(table, filterPatterns);
    }

    /** The template's FilterCriteria patterns (JSON strings), parsed once. */
    static List<Map<String, Object>> parsePatterns(String table, List<String> filterPatterns) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String p : filterPatterns) {
            try {
                out.add(Json.parseObject(p));
            } catch (Json.MalformedJsonException e) {
                throw new IllegalArgumentException("bad filter pattern in template for " + table + ": " + p);
            }
        }
        return out;
    }

    /**
     * What the event source hands the function for these stream records: the ones the filter patterns let through,
     * converted to the Lambda event's records, in stream order. The poller and the dead-letter redrive
     * ({@link Redrive}) both build their events with this, so a redriven batch is the batch Lambda would have sent.
     */
    static List<DynamodbEvent.DynamodbStreamRecord> batch(List<Record> records, List<Map<String, Object>> patterns) {
        List<DynamodbEvent.DynamodbStreamRecord> out = new ArrayList<>();
        for (Record rec : records) {
            if (matches(patterns, rec)) out.add(convert(rec));
        }
        return out;
    }

    /** The table whose stream this reads (its logical id). */
    public String table() { return table; }

    /**
     * Starts every shard open now at its end, as an event source mapping created with StartingPosition LATEST does
     * (tests that only want their own writes use it before writing); shards that appear later are read from their start.
     */
    public synchronized StreamPoller fromLatest() {
        if (streamArn == null) streamArn = dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
        for (Shard shard : streams.describeStream(b -> b.streamArn(streamArn)).streamDescription().shards()) {
            if (shard.sequenceNumberRange() != null && shard.sequenceNumberRange().endingSequenceNumber() != null) {
                finished.add(shard.shardId());
            } else {
                iterators.put(shard.shardId(), streams.getShardIterator(b -> b.streamArn(streamArn).shardId(shard.shardId())
                        .shardIteratorType(ShardIteratorType.LATEST)).shardIterator());
            }
        }
        return this;
    }

    /** Reads every shard once; returns how many records were read (before filtering). */
    public synchronized int pollOnce() {
        if (streamArn == null) streamArn = dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
        for (Shard shard : streams.describeStream(b -> b.streamArn(streamArn)).streamDescription().shards()) {
            if (!iterators.containsKey(shard.shardId()) && !finished.contains(shard.shardId())) {
                iterators.put(shard.shardId(), streams.getShardIterator(b -> b.streamArn(streamArn).shardId(shard.shardId())
                        .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator());
            }
        }
        int read = 0;
        for (String shardId : new ArrayList<>(iterators.keySet())) {
            String it = iterators.get(shardId);
            GetRecordsResponse r;
            try {
                r = streams.getRecords(b -> b.shardIterator(it).limit(100));
            } catch (TrimmedDataAccessException | ExpiredIteratorException e) {
                // a stream may refuse an iterator it handed out (DynamoDB's expire after 15 minutes); resume from the checkpoint (the handlers
                // are idempotent, so a record seen twice is harmless)
                iterators.put(shardId, resume(shardId));
                continue;
            }
            read += r.records().size();
            List<DynamodbEvent.DynamodbStreamRecord> batch = batch(r.records(), patterns);
            String failedAt = null;
            if (!batch.isEmpty()) {
                DynamodbEvent event = new DynamodbEvent();
                event.setRecords(batch);
                StreamsEventResponse resp = handler.handleRequest(event, new LocalContext(table + "-stream"));
                if (resp != null && resp.getBatchItemFailures() != null && !resp.getBatchItemFailures().isEmpty()) {
                    failedAt = resp.getBatchItemFailures().get(0).getItemIdentifier();
                }
            }
            if (failedAt == null && !r.records().isEmpty()) {
                checkpoints.put(shardId, r.records().get(r.records().size() - 1).dynamodb().sequenceNumber());
            }
            if (failedAt != null) {
                String seq = failedAt;
                iterators.put(shardId, streams.getShardIterator(b -> b.streamArn(streamArn).shardId(shardId)
                        .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(seq)).shardIterator());
            } else if (r.nextShardIterator() == null) {
                iterators.remove(shardId);
                finished.add(shardId);
            } else {
                iterators.put(shardId, r.nextShardIterator());
            }
        }
        return read;
    }

    private String resume(String shardId) {
        String after = checkpoints.get(shardId);
        return streams.getShardIterator(b -> {
            b.streamArn(streamArn).shardId(shardId);
            if (after == null) b.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
            else b.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).sequenceNumber(after);
        }).shardIterator();
    }

    private static boolean matches(List<Map<String, Object>> patterns, Record rec) {
        if (patterns.isEmpty()) return true;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("eventName", rec.eventNameAsString());
        Map<String, Object> ddb = new LinkedHashMap<>();
        if (rec.dynamodb().hasNewImage()) ddb.put("NewImage", imageDoc(rec.dynamodb().newImage()));
        if (rec.dynamodb().hasOldImage()) ddb.put("OldImage", imageDoc(rec.dynamodb().oldImage()));
        if (rec.dynamodb().hasKeys()) ddb.put("Keys", imageDoc(rec.dynamodb().keys()));
        doc.put("dynamodb", ddb);
        for (Map<String, Object> p : patterns) if (matches(p, doc)) return true;
        return false;
    }

    private static Map<String, Object> imageDoc(Map<String, AttributeValue> image) {
        Map<String, Object> out = new LinkedHashMap<>();
        image.forEach((k, v) -> {
            Map<String, Object> typed = new LinkedHashMap<>();
            if (v.s() != null) typed.put("S", v.s());
            if (v.n() != null) typed.put("N", v.n());
            if (v.bool() != null) typed.put("BOOL", v.bool().toString());
            out.put(k, typed);
        });
        return out;
    }

    /**
     * A small EventBridge-style matcher: lists are the allowed values, objects nest. Enough for the template's filters.
     * A missing node matches only {"exists": false} below it, as a missing leaf does.
     */
    @SuppressWarnings("unchecked")
    static boolean matches(Map<String, Object> pattern, Map<String, Object> doc) {
        for (Map.Entry<String, Object> e : pattern.entrySet()) {
            Object actual = doc == null ? null : doc.get(e.getKey());
            if (e.getValue() instanceof Map<?, ?> sub) {
                if (actual != null && !(actual instanceof Map<?, ?>)) return false;
                if (!matches((Map<String, Object>) sub, (Map<String, Object>) actual)) return false;
            } else if (e.getValue() instanceof List<?> allowed) {
                if (allowed.stream().noneMatch(a -> allows(a, actual))) return false;
            } else {
                return false;
            }
        }
        return true;
    }

    /** One allowed value: an exact value, {"prefix": "..."}, or {"exists": true|false} (leaves only, as Lambda's). */
    private static boolean allows(Object allowed, Object actual) {
        if (allowed instanceof Map<?, ?> m && m.get("exists") instanceof Boolean want) {
            return want == (actual != null && !(actual instanceof Map<?, ?>));
        }
        if (actual == null) return false;
        if (allowed instanceof Map<?, ?> m && m.get("prefix") instanceof String p) {
            return actual instanceof String s && s.startsWith(p);
        }
        if (allowed instanceof Map<?, ?> m) throw new IllegalArgumentException("filter operator not supported locally: " + m.keySet());
        return allowed.equals(actual);
    }

    static DynamodbEvent.DynamodbStreamRecord convert(Record rec) {
        DynamodbEvent.DynamodbStreamRecord out = new DynamodbEvent.DynamodbStreamRecord();
        out.setEventID(rec.eventID());
        out.setEventName(rec.eventNameAsString());
        out.setEventVersion(rec.eventVersion());
        out.setEventSource("aws:dynamodb");
        out.setAwsRegion("us-east-1");
        StreamRecord sr = new StreamRecord();
        var d = rec.dynamodb();
        if (d.hasKeys()) sr.setKeys(toEvent(d.keys()));
        if (d.hasNewImage()) sr.setNewImage(toEvent(d.newImage()));
        if (d.hasOldImage()) sr.setOldImage(toEvent(d.oldImage()));
        sr.setSequenceNumber(d.sequenceNumber());
        sr.setSizeBytes(d.sizeBytes());
        // every record of the real service names its view type; an emulator that leaves it out must not stop the poller
        if (d.streamViewTypeAsString() != null) {
            sr.setStreamViewType(com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamViewType.fromValue(d.streamViewTypeAsString()));
        }
        if (d.approximateCreationDateTime() != null) sr.setApproximateCreationDateTime(Date.from(d.approximateCreationDateTime()));
        out.setDynamodb(sr);
        return out;
    }

    static Map<String, com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue> toEvent(Map<String, AttributeValue> in) {
        Map<String, com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue> out = new HashMap<>();
        in.forEach((k, v) -> out.put(k, toEvent(v)));
        return out;
    }

    static com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue toEvent(AttributeValue v) {
        var a = new com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue();
        if (v.s() != null) a.setS(v.s());
        else if (v.n() != null) a.setN(v.n());
        else if (v.bool() != null) a.setBOOL(v.bool());
        else if (v.nul() != null) a.setNULL(v.nul());
        else if (v.hasM()) a.setM(toEvent(v.m()));
        else if (v.hasL()) a.setL(v.l().stream().map(StreamPoller::toEvent).toList());
        else if (v.hasSs()) a.setSS(v.ss());
        else if (v.hasNs()) a.setNS(v.ns());
        else if (v.b() != null) a.setB(v.b().asByteBuffer());
        return a;
    }
}
