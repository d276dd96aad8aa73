package dev.credits.core.store;

import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.ChargeOutcome;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.Payments;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.credits.core.store.Items.n;
import static dev.credits.core.store.Items.s;

/**
 * What Stripe payments did to balances, kept so that each Stripe object has its effect exactly once, in whatever
 * order and multiplicity its events arrive.
 *
 * <p>One item per payment intent ({@code pk = stripe#<payment intent>}, {@code sk = payment}) gathers the facts as
 * they arrive: what was credited (from the Checkout Session), the cumulative refunded amount (the largest
 * {@code amount_refunded} seen: older events cannot lower it), each dispute's amount. The clawback owed is a function
 * of those facts ({@link Payments#clawbackTarget}); the item also records how much was clawed back, and each step
 * from that to the target is one transaction (payment item, account, ledger entry) conditioned on the old value.
 */
public final class PaymentsStore {
    private final DynamoDbClient dynamo;
    private final CreditsStore credits;
    private final String ledger;
    private final Clock clock;

    public PaymentsStore(DynamoDbClient dynamo, StoreConfig config, Clock clock) {
        this.dynamo = dynamo;
        this.credits = new CreditsStore(dynamo, config, clock);
        this.ledger = config.ledgerTable();
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static Map<String, AttributeValue> paymentKey(String paymentIntent) {
        return Map.of("pk", s("stripe#" + paymentIntent), "sk", s("payment"));
    }

    /** A paid Checkout Session, already checked against what was asked for. */
    public record TopUp(AccountId account, String sessionId, String paymentIntent, long creditsMicros,
                        long amountMinor, String currency, String eventId) {}

    /** Credits a paid session once (its ledger entry is keyed by the session id), then applies any clawback owed. */
    public ChargeOutcome creditTopUp(TopUp t) {
        Map<String, String> refs = new LinkedHashMap<>();
        refs.put("checkoutSession", t.sessionId());
        if (t.paymentIntent() != null) refs.put("paymentIntent", t.paymentIntent());
        refs.put("stripeEvent", t.eventId());
        LedgerEntry entry = new LedgerEntry(t.account(), "topup#" + t.sessionId(), EntryType.TOPUP, t.creditsMicros(), now(),
                null, t.sessionId(), null, null, null, null, null, Map.of(), null,
                "top-up of " + t.amountMinor() + " " + t.currency() + " through Stripe Checkout", "session|" + t.sessionId(), refs);
        List<TransactWriteItem> extra = t.paymentIntent() == null ? List.of()
                : List.of(paymentRecord(t.account(), t.paymentIntent(), t.sessionId(), t.creditsMicros(), t.amountMinor(), t.currency()));
        ChargeOutcome out = credits.post(entry, CreditsStore.Mode.CREDIT, extra);
        if (out instanceof ChargeOutcome.Charged && t.paymentIntent() != null) reconcile(t.paymentIntent(), null);
        return out;
    }

    /**
     * Plan credits for one paid invoice, once per invoice. With the invoice's payment intent, the payment is recorded
     * like a top-up's, so a refund or dispute of the subscription payment claws its credits back.
     */
    public ChargeOutcome grantPlanCredits(AccountId account, String invoiceId, long micros, Map<String, String> refs, String reason,
                                          String paymentIntent, long paidMinor, String currency) {
        LedgerEntry entry = new LedgerEntry(account, "plan#" + invoiceId, EntryType.PLAN_CREDIT, micros, now(), null, invoiceId,
                null, null, null, null, null, Map.of(), null, reason, "invoice|" + invoiceId, refs);
        List<TransactWriteItem> extra = paymentIntent == null ? List.of()
                : List.of(paymentRecord(account, paymentIntent, invoiceId, micros, paidMinor, currency == null ? "?" : currency));
        ChargeOutcome out = credits.post(entry, CreditsStore.Mode.CREDIT, extra);
        if (out instanceof ChargeOutcome.Charged && paymentIntent != null) reconcile(paymentIntent, null);
        return out;
    }

    private TransactWriteItem paymentRecord(AccountId account, String paymentIntent, String source, long micros, long paidMinor, String currency) {
        return TransactWriteItem.builder().update(Update.builder().tableName(ledger).key(paymentKey(paymentIntent))
                .updateExpression("SET account = :a, sessionId = :s, credited = :c, paid = :p, currency = :cur, kind = :k")
                .conditionExpression("attribute_not_exists(credited)")
                .expressionAttributeValues(Map.of(":a", s(account.value()), ":s", s(source),
                        ":c", n(micros), ":p", n(paidMinor), ":cur", s(currency), ":k", s("payment")))
                .build()).build();
    }

    /** Records a charge's cumulative refunded amount (only ever raised), then applies the clawback owed. */
    public Optional<LedgerEntry> recordRefund(String paymentIntent, String chargeId, long refundedMinor, String eventId) {
        try {
            dynamo.updateItem(b -> b.tableName(ledger).key(paymentKey(paymentIntent))
                    .updateExpression("SET refunded = :r, chargeId = :ch, kind = :k")
                    .conditionExpression("attribute_not_exists(refunded) OR refunded < :r")
                    .expressionAttributeValues(Map.of(":r", n(refundedMinor), ":ch", s(chargeId), ":k", s("payment"))));
        } catch (ConditionalCheckFailedException older) {
            // an event with this refund level or a later one was already recorded
        } catch (SdkException e) {
            throw new StoreUnavailableException("refund record failed", e);
        }
        return reconcile(paymentIntent, Map.of("charge", chargeId, "stripeEvent", eventId));
    }

    /** Records one dispute's amount (once per dispute id), then applies the clawback owed. */
    public Optional<LedgerEntry> recordDispute(String paymentIntent, String chargeId, String disputeId, long amountMinor, String eventId) {
        try {
            dynamo.updateItem(b -> b.tableName(ledger).key(paymentKey(paymentIntent))
                    .updateExpression("SET #d = :amt, kind = :k")
                    .conditionExpression("attribute_not_exists(#d)")
                    .expressionAttributeNames(Map.of("#d", "dispute#" + disputeId))
                    .expressionAttributeValues(Map.of(":amt", n(amountMinor), ":k", s("payment"))));
        } catch (ConditionalCheckFailedException seen) {
            // this dispute was recorded before
        } catch (SdkException e) {
            throw new StoreUnavailableException("dispute record failed", e);
        }
        Map<String, String> refs = new LinkedHashMap<>();
        if (chargeId != null) refs.put("charge", chargeId);
        refs.put("dispute", disputeId);
        refs.put("stripeEvent", eventId);
        return reconcile(paymentIntent, refs);
    }

    /**
     * Brings the clawed-back amount of a payment up to what its facts owe. Does nothing until the payment has been
     * credited (a refund that arrives first waits in the facts, and the credit applies it).
     */
    public Optional<LedgerEntry> reconcile(String paymentIntent, Map<String, String> triggeredBy) {
        for (int attempt = 1; attempt <= 5; attempt++) {
            Map<String, AttributeValue> item;
            try {
                var r = dynamo.getItem(b -> b.tableName(ledger).key(paymentKey(paymentIntent)).consistentRead(true));
                item = r.hasItem() ? r.item() : Map.of();
            } catch (SdkException e) {
                throw new StoreUnavailableException("payment read failed", e);
            }
            if (!item.containsKey("credited")) return Optional.empty();
            long credited = Items.longOf(item, "credited");
            long paid = Items.longOf(item, "paid");
            long refunded = item.containsKey("refunded") ? Items.longOf(item, "refunded") : 0;
            Map<String, Long> disputes = new HashMap<>();
            item.forEach((k, v) -> { if (k.startsWith("dispute#")) disputes.put(k.substring(8), Long.parseLong(v.n())); });
            long applied = item.containsKey("clawed") ? Items.longOf(item, "clawed") : 0;
            long target = Payments.clawbackTarget(credited, paid, refunded, disputes);
            if (target <= applied) return Optional.empty();
            AccountId account = new AccountId(item.get("account").s());
            var holder = credits.get(account);
            if (holder.isPresent() && holder.get().status() == dev.credits.core.domain.AccountStatus.CLOSED) {
                // its balance was forfeited on closing: taking the refunded credits again would charge twice
                review(paymentIntent, "refund_or_dispute_after_close", Map.of("account", account.value(),
                        "owed", Long.toString(target - applied)));
                return Optional.empty();
            }
            Map<String, String> refs = new LinkedHashMap<>();
            refs.put("paymentIntent", paymentIntent);
            refs.put("checkoutSession", item.get("sessionId").s());
            if (item.containsKey("chargeId")) refs.put("charge", item.get("chargeId").s());
            if (triggeredBy != null) refs.putAll(triggeredBy);
            String reason = "clawback: " + (refunded > 0 ? "refunded " + refunded + " of " + paid + " " + Items.str(item, "currency") : "")
                    + (disputes.isEmpty() ? "" : (refunded > 0 ? "; " : "") + "disputed " + disputes.values().stream().mapToLong(Long::longValue).sum()
                    + " of " + paid + " " + Items.str(item, "currency"));
            LedgerEntry entry = new LedgerEntry(account, "clawback#" + paymentIntent + "#" + target, EntryType.CLAWBACK,
                    -(target - applied), now(), null, null, null, null, null, null, null, Map.of(), null, reason,
                    "clawback|" + paymentIntent + "|" + target, refs);
            Map<String, AttributeValue> v = new HashMap<>();
            v.put(":t", n(target));
            String cond;
            if (applied == 0) {
                cond = "attribute_not_exists(clawed)";
            } else {
                cond = "clawed = :old";
                v.put(":old", n(applied));
            }
            TransactWriteItem mark = TransactWriteItem.builder().update(Update.builder().tableName(ledger).key(paymentKey(paymentIntent))
                    .updateExpression("SET clawed = :t").conditionExpression(cond).expressionAttributeValues(v).build()).build();
            ChargeOutcome out = credits.post(entry, CreditsStore.Mode.CLAWBACK, List.of(mark));
            switch (out) {
                case ChargeOutcome.Charged c -> { return Optional.of(c.entry()); }
                case ChargeOutcome.Replayed r -> { return Optional.empty(); }
                case ChargeOutcome.ExtraConditionFailed x -> { /* another delivery moved it: read again */ }
                case ChargeOutcome.AccountNotFound nf -> { return Optional.empty(); }
                case ChargeOutcome.AccountClosed closed -> {
                    // closed between the status read above and this write: the forfeit took the balance already
                    review(paymentIntent, "refund_or_dispute_after_close", Map.of("account", account.value(),
                            "owed", Long.toString(target - applied)));
                    return Optional.empty();
                }
                default -> throw new IllegalStateException("unexpected clawback outcome " + out);
            }
        }
        throw new StoreUnavailableException("clawback kept conflicting", null);
    }

    /** Something a person must look at (amount mismatch, closed or unknown account): kept once per object and reason. */
    public void review(String objectId, String reason, Map<String, String> details) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", s("review"));
        item.put("sk", s(objectId + "#" + reason));
        item.put("kind", s("review"));
        item.put("reason", s(reason));
        item.put("recordedAt", s(now().toString()));
        Map<String, AttributeValue> d = new HashMap<>();
        details.forEach((k, val) -> { if (val != null) d.put(k, s(val)); });
        item.put("details", AttributeValue.builder().m(d).build());
        try {
            dynamo.putItem(b -> b.tableName(ledger).item(item).conditionExpression("attribute_not_exists(pk)"));
        } catch (ConditionalCheckFailedException seen) {
            // recorded by an earlier delivery
        } catch (SdkException e) {
            throw new StoreUnavailableException("review record failed", e);
        }
    }

    /** The review items, for tests and operators. */
    public List<Map<String, AttributeValue>> reviews() {
        try {
            return dynamo.query(b -> b.tableName(ledger).keyConditionExpression("pk = :p")
                    .expressionAttributeValues(Map.of(":p", s("review")))).items();
        } catch (SdkException e) {
            throw new StoreUnavailableException("review read failed", e);
        }
    }
}
