package dev.credits.aggregator;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.log.Log;
import dev.credits.core.store.Clients;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.Items;
import dev.credits.core.store.StoreConfig;
import dev.credits.core.store.StreamImages;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Fed by the ledger table's stream (new images, inserts of usage entries only, by the template's filter): adds each
 * charge to its day's totals exactly once, so the Usage Overview reads at most one item per day. Off the hot path.
 *
 * <p>Records are processed in order; on a failure the rest of the batch is reported back (partial batch response),
 * so Lambda retries from the failed record, and after its retries the batch goes to the on-failure destination.
 */
public final class AggregatorHandler implements RequestHandler<DynamodbEvent, StreamsEventResponse> {
    private final CreditsStore store;

    public AggregatorHandler() {
        this(System.getenv());
    }

    public AggregatorHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env));
    }

    public AggregatorHandler(DynamoDbClient dynamo, StoreConfig config) {
        this.store = new CreditsStore(dynamo, config, Clock.systemUTC());
    }

    @Override
    public StreamsEventResponse handleRequest(DynamodbEvent event, Context context) {
        String requestId = context == null ? "-" : context.getAwsRequestId();
        List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>();
        int applied = 0, skipped = 0;
        List<DynamodbEvent.DynamodbStreamRecord> records = event.getRecords() == null ? List.of() : event.getRecords();
        for (int i = 0; i < records.size(); i++) {
            DynamodbEvent.DynamodbStreamRecord record = records.get(i);
            try {
                if (!"INSERT".equals(record.getEventName()) || record.getDynamodb() == null
                        || record.getDynamodb().getNewImage() == null) { skipped++; continue; }
                Map<String, AttributeValue> image = StreamImages.toSdk(record.getDynamodb().getNewImage());
                if (!image.containsKey("kind") || !"entry".equals(image.get("kind").s())) { skipped++; continue; }
                LedgerEntry entry = Items.entry(image);
                if (!entry.type().isUsage()) { skipped++; continue; }
                if (store.aggregate(entry)) applied++; else skipped++;
            } catch (RuntimeException e) {
                Log.error("aggregate_failed", requestId, "sequenceNumber", seq(record), "cause", e.getClass().getName());
                for (int j = i; j < records.size(); j++) {
                    failures.add(new StreamsEventResponse.BatchItemFailure(seq(records.get(j))));
                }
                break;
            }
        }
        Log.info("aggregated", requestId, "records", records.size(), "applied", applied, "skipped", skipped,
                "failed", failures.size());
        return new StreamsEventResponse(failures);
    }

    private static String seq(DynamodbEvent.DynamodbStreamRecord r) {
        return r.getDynamodb() == null ? null : r.getDynamodb().getSequenceNumber();
    }

}
