package dev.credits.usage;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import dev.credits.core.log.Log;
import dev.credits.core.store.Clients;
import dev.credits.core.store.HoldsStore;
import dev.credits.core.store.StoreConfig;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.util.Map;

/**
 * Runs every minute (EventBridge schedule): releases every open hold past its expiry, with a ledger entry each, so
 * an abandoned hold stops counting against the available balance within two minutes. DynamoDB's TTL is not used
 * for this: it can lag by days.
 */
public final class HoldExpiryHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    private final HoldsStore holds;

    public HoldExpiryHandler() {
        this(System.getenv());
    }

    public HoldExpiryHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), Clock.systemUTC());
    }

    public HoldExpiryHandler(DynamoDbClient dynamo, StoreConfig config, Clock clock) {
        this.holds = new HoldsStore(dynamo, config, clock);
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> scheduledEvent, Context context) {
        int released = holds.expireDue();
        Log.info("holds_expired", context == null ? "-" : context.getAwsRequestId(), "released", released);
        return Map.of("released", released);
    }
}
