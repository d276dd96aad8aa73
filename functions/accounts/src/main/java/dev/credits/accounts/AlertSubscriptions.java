package dev.credits.accounts;

import dev.credits.core.log.Log;
import dev.credits.core.store.StoreUnavailableException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sns.SnsClient;

import java.time.Duration;
import java.util.Map;

/**
 * The owner's alert email as an SNS email subscription on the alerts topic, filtered on the account id, so each
 * owner receives only their own alerts. SNS sends the confirmation mail itself.
 */
public sealed interface AlertSubscriptions {
    /** Subscribes the address; returns the subscription ARN (pending until the owner confirms). */
    String subscribe(String accountId, String email, String requestId);

    void unsubscribe(String subscriptionArn, String requestId);

    dev.credits.core.store.Clients.Timeouts SUBSCRIBE_TIMEOUTS = new dev.credits.core.store.Clients.Timeouts(
            Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofSeconds(5));

    static AlertSubscriptions fromEnv(Map<String, String> env) {
        String topic = env.get("ALERTS_TOPIC_ARN");
        if (topic == null || topic.isBlank()) throw new IllegalStateException("ALERTS_TOPIC_ARN is not set");
        if (topic.startsWith("local-log:")) return new LogOnly();
        // explicit timeouts: the HTTP client's default (30 s an attempt, four attempts) ran past the function's 10 s
        // Timeout when SNS did not answer, so the owner got API Gateway's error instead of a 503
        var b = dev.credits.core.store.Clients.configure(SnsClient.builder(), env.getOrDefault("AWS_REGION", "us-east-1"),
                env.get("SNS_ENDPOINT"), SUBSCRIBE_TIMEOUTS);
        return new Sns(b.build(), topic);
    }

    record Sns(SnsClient sns, String topicArn) implements AlertSubscriptions {
        @Override
        public String subscribe(String accountId, String email, String requestId) {
            try {
                String arn = sns.subscribe(b -> b.topicArn(topicArn).protocol("email").endpoint(email)
                        .returnSubscriptionArn(true)
                        .attributes(Map.of("FilterPolicy", "{\"accountId\":[\"" + accountId + "\"]}",
                                "FilterPolicyScope", "MessageAttributes"))).subscriptionArn();
                Log.info("alert_subscribed", requestId, "account", accountId);
                return arn;
            } catch (SdkException e) {
                throw new StoreUnavailableException("SNS subscribe failed", e);
            }
        }

        @Override
        public void unsubscribe(String subscriptionArn, String requestId) {
            try {
                sns.unsubscribe(b -> b.subscriptionArn(subscriptionArn));
            } catch (SdkException e) {
                // a subscription never confirmed cannot always be removed; SNS drops it after 3 days by itself
                Log.warn("alert_unsubscribe_failed", requestId, "cause", e.getClass().getSimpleName());
            }
        }
    }

    /** The local runner without an SNS endpoint: says what it would do. */
    record LogOnly() implements AlertSubscriptions {
        @Override
        public String subscribe(String accountId, String email, String requestId) {
            Log.warn("ALERT_SUBSCRIPTION_NOT_MADE_NO_SNS_ENDPOINT", requestId, "account", accountId);
            return "local-log:subscription:" + accountId;
        }

        @Override
        public void unsubscribe(String subscriptionArn, String requestId) {
            Log.warn("ALERT_UNSUBSCRIBE_NOT_MADE_NO_SNS_ENDPOINT", requestId);
        }
    }
}
