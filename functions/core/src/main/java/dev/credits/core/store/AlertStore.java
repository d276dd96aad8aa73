package dev.credits.core.store;

import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.Alerts;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static dev.credits.core.store.Items.n;
import static dev.credits.core.store.Items.s;

/**
 * DynamoDB side of the alerts: the idempotency record of each alert (in the ledger table, {@code pk =
 * <account>#alerts}, {@code sk = soft_limit#r<rev>} or {@code hard_limit#<episode>}, expiring after a week by TTL,
 * long after the stream's 24 hours), and the "usage stopped" state on the account item. Shaped like Powertools'
 * idempotency store: one conditional put that claims the key (or returns the old record), IN_PROGRESS with a lock
 * expiry, then COMPLETED.
 */
public final class AlertStore {
    private static final Duration LOCK = Duration.ofSeconds(60);
    private static final Duration KEEP = Duration.ofDays(7);

    private final DynamoDbClient dynamo;
    private final String accounts;
    private final String ledger;
    private final Clock clock;

    public AlertStore(DynamoDbClient dynamo, StoreConfig config, Clock clock) {
        this.dynamo = dynamo;
        this.accounts = config.accountsTable();
        this.ledger = config.ledgerTable();
        this.clock = clock;
    }

    public enum Claim { CLAIMED, ALREADY_SENT, IN_PROGRESS_ELSEWHERE }

    private static Map<String, AttributeValue> key(Alerts.Alert alert) {
        // soft-limit alerts are keyed by the crossing write's revision; the "r" keeps them apart from the
        // episode-numbered soft-limit records of the earlier design, which may still be within their week
        String occurrence = (alert.kind() == Alerts.Kind.SOFT_LIMIT ? "r" : "") + alert.occurrence();
        return Map.of("pk", s(alert.account().value() + "#alerts"), "sk", s(alert.kind().wire() + "#" + occurrence));
    }

    /** Claims the right to send this alert. */
    public Claim claim(Alerts.Alert alert) {
        long now = clock.instant().getEpochSecond();
        Map<String, AttributeValue> item = new HashMap<>(key(alert));
        item.put("kind", s("alert"));
        item.put("status", s("IN_PROGRESS"));
        item.put("lockedUntil", n(now + LOCK.toSeconds()));
        item.put("expiresAt", n(now + KEEP.toSeconds()));
        try {
            dynamo.putItem(b -> b.tableName(ledger).item(item)
                    .conditionExpression("attribute_not_exists(pk) OR (#s = :inprog AND lockedUntil < :now)")
                    .expressionAttributeNames(Map.of("#s", "status"))
                    .expressionAttributeValues(Map.of(":inprog", s("IN_PROGRESS"), ":now", n(now)))
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD));
            return Claim.CLAIMED;
        } catch (ConditionalCheckFailedException e) {
            Map<String, AttributeValue> old = e.item();
            return old != null && "COMPLETED".equals(Items.str(old, "status")) ? Claim.ALREADY_SENT : Claim.IN_PROGRESS_ELSEWHERE;
        } catch (SdkException e) {
            throw new StoreUnavailableException("alert claim failed", e);
        }
    }

    public void complete(Alerts.Alert alert, String messageId) {
        try {
            dynamo.updateItem(b -> b.tableName(ledger).key(key(alert))
                    .updateExpression("SET #s = :done, messageId = :mid, sentAt = :at REMOVE lockedUntil")
                    .expressionAttributeNames(Map.of("#s", "status"))
                    .expressionAttributeValues(Map.of(":done", s("COMPLETED"), ":mid", s(messageId == null ? "-" : messageId),
                            ":at", s(clock.instant().toString()))));
        } catch (SdkException e) {
            throw new StoreUnavailableException("alert completion failed", e);
        }
    }

    /** Lets the claim go after a failed publish, so a retry can claim it at once. */
    public void release(Alerts.Alert alert) {
        try {
            dynamo.deleteItem(b -> b.tableName(ledger).key(key(alert))
                    .conditionExpression("#s = :inprog")
                    .expressionAttributeNames(Map.of("#s", "status"))
                    .expressionAttributeValues(Map.of(":inprog", s("IN_PROGRESS"))));
        } catch (SdkException ignored) {
            // the lock expires by itself
        }
    }

    /**
     * Marks a stop episode's alert as sent on the account (PENDING -> SENT, for that episode only). The soft limit
     * keeps no state on the item: its alerts are decided from each write's old and new images.
     */
    public void markSent(Alerts.Alert alert) {
        if (alert.kind() != Alerts.Kind.HARD_LIMIT) return;
        try {
            dynamo.updateItem(b -> b.tableName(accounts).key(Items.accountKey(alert.account()))
                    .updateExpression("SET stopAlert = :sent")
                    .conditionExpression("stopAlert = :pending AND stopEpisode = :ep")
                    .expressionAttributeValues(Map.of(":sent", s(Alerts.State.SENT.wire()),
                            ":pending", s(Alerts.State.PENDING.wire()), ":ep", n(alert.occurrence()))));
        } catch (ConditionalCheckFailedException e) {
            // already marked by an earlier delivery, or the episode was ended (credit added) meanwhile
        } catch (SdkException e) {
            throw new StoreUnavailableException("alert state update failed", e);
        }
    }

    /** An account image a stream record carries, as the alert rules see it. */
    public static Alerts.Image image(Map<String, AttributeValue> m) {
        return new Alerts.Image(
                new AccountId(m.get("accountId").s()),
                Items.longOf(m, "balance"),
                Items.longOf(m, "hardLimit"),
                m.containsKey("softLimit") ? Items.longOf(m, "softLimit") : null,
                m.containsKey("softHeadroom") ? Items.longOf(m, "softHeadroom") : 0,
                Items.longOf(m, "rev"),
                Alerts.State.fromWire(Items.str(m, "stopAlert")),
                m.containsKey("stopEpisode") ? Items.longOf(m, "stopEpisode") : 0,
                "CLOSED".equals(Items.str(m, "status")));
    }

    // ---------------------------------------------------------------- email subscription bookkeeping

    /** The address an SNS subscription exists for, and its ARN. */
    public record Subscription(String email, String arn) {}

    public record SubscriptionState(String wantedEmail, Subscription current) {}

    public SubscriptionState subscriptionState(AccountId a) {
        try {
            var r = dynamo.getItem(b -> b.tableName(accounts).key(Items.accountKey(a)).consistentRead(true)
                    .projectionExpression("alertEmail, alertSubscribedEmail, alertSubscriptionArn"));
            Map<String, AttributeValue> m = r.hasItem() ? r.item() : Map.of();
            String subEmail = Items.str(m, "alertSubscribedEmail");
            String arn = Items.str(m, "alertSubscriptionArn");
            return new SubscriptionState(Items.str(m, "alertEmail"), arn == null ? null : new Subscription(subEmail, arn));
        } catch (SdkException e) {
            throw new StoreUnavailableException("subscription read failed", e);
        }
    }

    public void recordSubscription(AccountId a, Subscription sub) {
        try {
            if (sub == null) {
                dynamo.updateItem(b -> b.tableName(accounts).key(Items.accountKey(a))
                        .updateExpression("REMOVE alertSubscribedEmail, alertSubscriptionArn"));
            } else {
                dynamo.updateItem(b -> b.tableName(accounts).key(Items.accountKey(a))
                        .updateExpression("SET alertSubscribedEmail = :e, alertSubscriptionArn = :a")
                        .expressionAttributeValues(Map.of(":e", s(sub.email()), ":a", s(sub.arn()))));
            }
        } catch (SdkException e) {
            throw new StoreUnavailableException("subscription write failed", e);
        }
    }
}
