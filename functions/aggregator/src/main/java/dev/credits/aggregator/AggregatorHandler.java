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
        List<DynamodbEvent.DynamodbStreamRecord> records = event.getRecords() == null ? List.of() : event.getRecords();
        List<LedgerEntry> usage = new ArrayList<>();
        for (DynamodbEvent.DynamodbStreamRecord record : records) {
            if (!"INSERT".equals(record.getEventName()) || record.getDynamodb() == null
                    || record.getDynamodb().getNewImage() == null) continue;
            Map<String, AttributeValue> image = StreamImages.toSdk(record.getDynamodb().getNewImage());
            if (!image.containsKey("kind") || !"entry".equals(image.get("kind").s())) continue;
            LedgerEntry entry = Items.entry(image);
            if (entry.type().isUsage()) usage.add(entry);
        }
        try {
            int applied = store.aggregate(usage);
            Log.info("aggregated", requestId, "records", records.size(), "usage", usage.size(), "applied", applied);
            return new StreamsEventResponse(List.of());
        } catch (RuntimeException e) {
            // nothing is half-counted (each group is one transaction with each entry's History row): retry the whole batch
            Log.error("aggregate_failed", requestId, "records", records.size(), "cause", e.getClass().getName());
            List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>();
            if (!records.isEmpty()) failures.add(new StreamsEventResponse.BatchItemFailure(seq(records.get(0))));
            return new StreamsEventResponse(failures);
        }
    }

    private static String seq(DynamodbEvent.DynamodbStreamRecord r) {
        return r.getDynamodb() == null ? null : r.getDynamodb().getSequenceNumber();
    }

}
