package dev.credits.alerts;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import dev.credits.core.domain.Alerts;
import dev.credits.core.log.Log;
import dev.credits.core.store.AlertStore;
import dev.credits.core.store.Clients;
import dev.credits.core.store.StoreConfig;
import dev.credits.core.store.StreamImages;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sns.SnsClient;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Fed by the accounts table's stream (new and old images; the template's filter passes only records that can be a
 * soft-limit crossing or a pending "usage stopped" alert): sends each downward crossing of the soft limit and each
 * "usage stopped" episode to SNS once. The usage hot path never waits on SNS.
 */
public final class AlertHandler implements RequestHandler<DynamodbEvent, StreamsEventResponse> {
    /** Marks the local runner's "no SNS endpoint" mode. */
    public static final String LOG_ONLY_PREFIX = "local-log:";

    private final AlertStore store;
    private final AlertPublisher publisher;
    private final Clock clock;

    public AlertHandler() {
        this(System.getenv());
    }

    public AlertHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), publisher(env), Clock.systemUTC());
    }

    public AlertHandler(DynamoDbClient dynamo, StoreConfig config, AlertPublisher publisher, Clock clock) {
        this.store = new AlertStore(dynamo, config, clock);
        this.publisher = publisher;
        this.clock = clock;
    }

    static AlertPublisher publisher(Map<String, String> env) {
        String topic = env.get("ALERTS_TOPIC_ARN");
        if (topic == null || topic.isBlank()) throw new IllegalStateException("ALERTS_TOPIC_ARN is not set");
        if (topic.startsWith(LOG_ONLY_PREFIX)) return new AlertPublisher.LogOnly();
        return new AlertPublisher.Sns(sns(env), topic);
    }

    /**
     * An SNS client built like the DynamoDB one: explicit HTTP client, region and timeouts; SNS_ENDPOINT for
     * emulators. Without the timeouts an SNS that does not answer held each attempt for the HTTP client's default 30 s,
     * four attempts in all: longer than the function's 60 s Timeout, so Lambda stopped it mid-batch.
     */
    public static SnsClient sns(Map<String, String> env) {
        return Clients.configure(SnsClient.builder(), env.getOrDefault("AWS_REGION", "us-east-1"), env.get("SNS_ENDPOINT"),
                PUBLISH_TIMEOUTS).build();
    }

    static final Clients.Timeouts PUBLISH_TIMEOUTS = new Clients.Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5),
            Duration.ofSeconds(3), Duration.ofSeconds(8));

    @Override
    public StreamsEventResponse handleRequest(DynamodbEvent event, Context context) {
        String requestId = context == null ? "-" : context.getAwsRequestId();
        List<DynamodbEvent.DynamodbStreamRecord> records = event.getRecords() == null ? List.of() : event.getRecords();
        List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>();
        int sent = 0;
        for (int i = 0; i < records.size(); i++) {
            DynamodbEvent.DynamodbStreamRecord r = records.get(i);
            try {
                if (r.getDynamodb() == null || r.getDynamodb().getNewImage() == null) continue;
                Map<String, AttributeValue> image = StreamImages.toSdk(r.getDynamodb().getNewImage());
                if (!image.containsKey("balance")) continue;
                // the item before this write (none on an INSERT): a soft-limit crossing is a change, not a state
                Map<String, AttributeValue> old = r.getDynamodb().getOldImage() == null ? null : StreamImages.toSdk(r.getDynamodb().getOldImage());
                Alerts.Image before = old == null || !old.containsKey("balance") ? null : AlertStore.image(old);
                // when the balance moved: the item's own updatedAt (the stream's approximate time is minute-rounded)
                Instant at = image.containsKey("updatedAt") ? Instant.parse(image.get("updatedAt").s()) : clock.instant();
                Alerts.Image img = AlertStore.image(image);
                for (Alerts.Alert alert : Alerts.decide(before, img)) {
                    if (send(alert, img, at, requestId)) sent++;
                }
            } catch (RuntimeException e) {
                Log.error("alert_failed", requestId, "sequenceNumber", r.getDynamodb() == null ? null : r.getDynamodb().getSequenceNumber(),
                        "cause", e.getClass().getName());
                for (int j = i; j < records.size(); j++) {
                    var d = records.get(j).getDynamodb();
                    failures.add(new StreamsEventResponse.BatchItemFailure(d == null ? null : d.getSequenceNumber()));
                }
                break;
            }
        }
        Log.info("alerts_processed", requestId, "records", records.size(), "sent", sent, "failed", failures.size());
        return new StreamsEventResponse(failures);
    }

    private boolean send(Alerts.Alert alert, Alerts.Image img, Instant at, String requestId) {
        switch (store.claim(alert)) {
            case ALREADY_SENT -> {
                store.markSent(alert);
                return false;
            }
            case IN_PROGRESS_ELSEWHERE -> throw new IllegalStateException("alert " + alert.kind().wire() + "#" + alert.occurrence()
                    + " of " + alert.account() + " is being sent by another invocation; retry later");
            case CLAIMED -> { /* ours to send */ }
        }
        String messageId;
        try {
            messageId = publisher.publish(AlertMessage.of(alert, img.hardLimit(), at), requestId);
        } catch (RuntimeException e) {
            store.release(alert);
            throw e;
        }
        store.complete(alert, messageId);
        store.markSent(alert);
        return true;
    }
}
