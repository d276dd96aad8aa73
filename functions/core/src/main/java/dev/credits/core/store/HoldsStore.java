package dev.credits.core.store;

import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.Alerts;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.Hold;
import dev.credits.core.domain.HoldOutcome;
import dev.credits.core.domain.LedgerEntry;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static dev.credits.core.store.Items.n;
import static dev.credits.core.store.Items.s;

/**
 * Holds: credits reserved for an AI call before it starts, captured at the tokens really used, the rest released.
 *
 * <p>Placing a hold is one TransactWriteItems with no read before it: the account moves the worst-case cost from
 * {@code spendable} to {@code held} under {@code spendable >= cost} (the same condition as a charge, so holds,
 * captures and usage share one exact rule), and the hold item is put if its key (from the holdId) is new. The hold
 * item is also its ledger entry (type {@code hold}, amount 0), carrying its state: {@code holdRemaining},
 * {@code captured}, {@code status}, {@code holdExpiry} (epoch seconds; deliberately not the table's TTL attribute, which would delete the hold record), and, while open, {@code openBucket}, the key of the sparse
 * {@code openHolds} index the expiry function reads.
 */
public final class HoldsStore {
    public static final String OPEN_INDEX = "openHolds";
    static final int OPEN_BUCKETS = 8;
    private static final String CCF = "ConditionalCheckFailed";
    private static final int MAX_ATTEMPTS = 6;

    private final DynamoDbClient dynamo;
    private final CreditsStore credits;
    private final String accounts;
    private final String ledger;
    private final Clock clock;

    public HoldsStore(DynamoDbClient dynamo, StoreConfig config, Clock clock) {
        this.dynamo = dynamo;
        this.credits = new CreditsStore(dynamo, config, clock);
        this.accounts = config.accountsTable();
        this.ledger = config.ledgerTable();
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    static String holdSk(String holdId) { return "hold#" + holdId; }

    /** What a hold is for: the worst case, priced. */
    public record Request(AccountId account, String holdId, EntryType feature, String model, Long inputTokens,
                          Long maxOutputTokens, String unitKind, Long maxUnits, long cost, Map<String, BigDecimal> rates,
                          String priceBookVersion, long ttlSeconds, String requestHash) {}

    public HoldOutcome place(Request r) {
        Instant now = now();
        Instant expires = now.plusSeconds(r.ttlSeconds());
        String sk = holdSk(r.holdId());
        LedgerEntry entry = new LedgerEntry(r.account(), sk, EntryType.HOLD, 0, now, null, r.holdId(), r.model(),
                r.inputTokens(), r.maxOutputTokens(), r.unitKind(), r.maxUnits(), r.rates(), r.priceBookVersion(),
                "reserved for a call in progress", r.requestHash());
        Map<String, AttributeValue> item = new HashMap<>(Items.entry(entry));
        item.put("held", n(r.cost()));
        item.put("holdRemaining", n(r.cost()));
        item.put("captured", n(0));
        item.put("status", s(Hold.Status.OPEN.name()));
        item.put("feature", s(r.feature().wire()));
        item.put("holdExpiry", n(expires.getEpochSecond()));
        item.put("expiresAtIso", s(expires.toString()));
        item.put("openBucket", s("open#" + Math.floorMod(r.holdId().hashCode(), OPEN_BUCKETS)));
        Map<String, AttributeValue> v = new HashMap<>();
        v.put(":h", n(r.cost()));
        v.put(":active", s(AccountStatus.ACTIVE.name()));
        v.put(":now", s(now.toString()));
        v.put(":one", n(1));
        Update account = Update.builder().tableName(accounts).key(Items.accountKey(r.account()))
                .updateExpression("SET held = held + :h, spendable = spendable - :h, updatedAt = :now, rev = rev + :one")
                .conditionExpression("#st = :active AND spendable >= :h")
                .expressionAttributeNames(Map.of("#st", "status")).expressionAttributeValues(v)
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build();
        Put hold = Put.builder().tableName(ledger).item(item).conditionExpression("attribute_not_exists(pk)")
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build();
        for (int attempt = 1; ; attempt++) {
            try {
                dynamo.transactWriteItems(b -> b.clientRequestToken(UUID.randomUUID().toString()).transactItems(
                        TransactWriteItem.builder().update(account).build(), TransactWriteItem.builder().put(hold).build()));
                return new HoldOutcome.Held(hold(item), credits.get(r.account()).orElse(null), false);
            } catch (TransactionCanceledException e) {
                List<CancellationReason> reasons = e.cancellationReasons();
                if (reasons.size() > 1 && CCF.equals(reasons.get(1).code())) {
                    Map<String, AttributeValue> old = reasons.get(1).item();
                    if (r.requestHash().equals(Items.str(old, "requestHash"))) {
                        return new HoldOutcome.Held(hold(old), credits.get(r.account()).orElse(null), true);
                    }
                    return new HoldOutcome.IdempotencyConflict(r.holdId());
                }
                if (!reasons.isEmpty() && CCF.equals(reasons.get(0).code())) {
                    CancellationReason a = reasons.get(0);
                    if (!a.hasItem() || a.item().isEmpty()) return new HoldOutcome.AccountNotFound(r.account());
                    Account old = Items.account(a.item());
                    if (old.status() == AccountStatus.CLOSED) return new HoldOutcome.AccountClosed(r.account());
                    Alerts.State stop = Alerts.State.fromWire(Items.str(a.item(), "stopAlert"));
                    if (stop != Alerts.State.PENDING && stop != Alerts.State.SENT) credits.markStopped(r.account());
                    return new HoldOutcome.HardLimitReached(r.cost(), old);
                }
                if (attempt >= MAX_ATTEMPTS) throw new StoreUnavailableException("hold kept conflicting", e);
                backoff(attempt);
            } catch (SdkException e) {
                throw new StoreUnavailableException("hold failed", e);
            }
        }
    }

    /** The hold, read strongly consistently; null when there is none for this account. */
    public Hold find(AccountId account, String holdId) {
        Map<String, AttributeValue> item = getItem(Items.entryKey(account, holdSk(holdId)));
        return item == null ? null : hold(item);
    }

    private Map<String, AttributeValue> getItem(Map<String, AttributeValue> key) {
        try {
            var r = dynamo.getItem(b -> b.tableName(ledger).key(key).consistentRead(true));
            return r.hasItem() && !r.item().isEmpty() ? r.item() : null;
        } catch (SdkException e) {
            throw new StoreUnavailableException("hold read failed", e);
        }
    }

    /** A capture, priced by the caller from the hold's rates. */
    public record Capture(AccountId account, String holdId, String captureId, Long inputTokens, Long outputTokens,
                          Long units, boolean last, String requestHash) {}

    /** The exact cost of a capture at the hold's rates, one ceiling, like a usage event. */
    public static long price(Hold h, Capture c) {
        BigDecimal micros;
        if (h.feature() == EntryType.AI_TOKENS) {
            micros = h.rates().get("inputPer1M").multiply(BigDecimal.valueOf(c.inputTokens()))
                    .add(h.rates().get("outputPer1M").multiply(BigDecimal.valueOf(c.outputTokens())));
        } else {
            micros = h.rates().get("perUnit").multiply(BigDecimal.valueOf(c.units())).multiply(BigDecimal.valueOf(1_000_000L));
        }
        return micros.setScale(0, RoundingMode.CEILING).longValueExact();
    }

    public HoldOutcome capture(Capture c) {
        return capture(c, null);
    }

    /**
     * Captures part of a hold at its rates. A first capture is the hold's read (its rates and state: {@code known},
     * when the caller has just read it) and one transaction; a retry of a committed capture is told by the
     * capture entry's own {@code attribute_not_exists} (its ALL_OLD is the first result), not by a read before.
     */
    public HoldOutcome capture(Capture c, Hold known) {
        String captureSk = "capture#" + c.holdId() + "#" + c.captureId();
        for (int attempt = 1; ; attempt++) {
            Hold h = attempt == 1 && known != null ? known : find(c.account(), c.holdId());
            if (h == null) return new HoldOutcome.HoldNotFound(c.holdId());
            Instant now = now();
            long cost = h.status() == Hold.Status.OPEN && !h.expiredAt(now) ? price(h, c) : 0;
            if (h.expiredAt(now) || h.status() != Hold.Status.OPEN || cost > h.remaining()) {
                // refused as things stand, unless this very capture was recorded before (a retry after it finished the hold)
                Map<String, AttributeValue> existing = getItem(Items.entryKey(c.account(), captureSk));
                if (existing != null) return replayOf(c, existing);
                if (h.expiredAt(now)) return new HoldOutcome.Expired(h);
                if (h.status() != Hold.Status.OPEN) return new HoldOutcome.NotOpen(h);
                return new HoldOutcome.ExceedsHold(h, cost);
            }
            long rest = c.last() ? h.remaining() - cost : 0;

            Map<String, String> refs = new LinkedHashMap<>();
            refs.put("hold", c.holdId());
            refs.put("capture", c.captureId());
            LedgerEntry entry = new LedgerEntry(c.account(), captureSk, EntryType.CAPTURE, -cost, now, null, c.captureId(),
                    h.model(), c.inputTokens(), c.outputTokens(), h.unitKind(), c.units(), h.rates(), h.priceBookVersion(),
                    c.last() ? "final capture of hold " + c.holdId() : "capture of hold " + c.holdId(), c.requestHash(), refs);
            Map<String, AttributeValue> av = new HashMap<>();
            av.put(":c", n(cost));
            av.put(":negc", n(-cost));
            av.put(":held", n(cost + rest));
            av.put(":rest", n(rest));
            av.put(":now", s(now.toString()));
            av.put(":one", n(1));
            Update account = Update.builder().tableName(accounts).key(Items.accountKey(c.account()))
                    .updateExpression("SET balance = balance - :c, held = held - :held, spendable = spendable + :rest, "
                            + "updatedAt = :now, rev = rev + :one ADD softHeadroom :negc")
                    .conditionExpression("attribute_exists(accountId)").expressionAttributeValues(av).build();
            Map<String, AttributeValue> hv = new HashMap<>();
            hv.put(":c", n(cost));
            hv.put(":open", s(Hold.Status.OPEN.name()));
            hv.put(":now", n(now.getEpochSecond()));
            String holdUpdate;
            String holdCond = "#s = :open AND holdExpiry > :now";
            if (c.last()) {
                holdUpdate = "SET holdRemaining = :zero, captured = captured + :c, #s = :finished REMOVE openBucket";
                holdCond += " AND holdRemaining = :remaining";
                hv.put(":zero", n(0));
                hv.put(":finished", s(Hold.Status.FINISHED.name()));
                hv.put(":remaining", n(h.remaining()));
            } else {
                holdUpdate = "SET holdRemaining = holdRemaining - :c, captured = captured + :c";
                holdCond += " AND holdRemaining >= :c";
            }
            Update holdItem = Update.builder().tableName(ledger).key(Items.entryKey(c.account(), holdSk(c.holdId())))
                    .updateExpression(holdUpdate).conditionExpression(holdCond)
                    .expressionAttributeNames(Map.of("#s", "status")).expressionAttributeValues(hv).build();
            List<TransactWriteItem> items = new ArrayList<>();
            items.add(TransactWriteItem.builder().update(account).build());
            items.add(TransactWriteItem.builder().update(holdItem).build());
            items.add(TransactWriteItem.builder().put(Put.builder().tableName(ledger).item(Items.entry(entry))
                    .conditionExpression("attribute_not_exists(pk)")
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()).build());
            if (c.last()) items.add(releaseEntry(c.account(), c.holdId(), rest, now, "rest released by the final capture"));
            try {
                dynamo.transactWriteItems(b -> b.clientRequestToken(UUID.randomUUID().toString()).transactItems(items));
                // a final capture's condition pinned holdRemaining, so the hold after it is known; a partial one's only
                // bounded it (captures may interleave), so the hold is read again for an exact answer
                Hold after = c.last() ? h.afterCapture(cost, true) : find(c.account(), c.holdId());
                return new HoldOutcome.Captured(entry, after, credits.get(c.account()).orElse(null), false);
            } catch (TransactionCanceledException e) {
                var reasons = e.cancellationReasons();
                if (reasons.size() > 2 && "ConditionalCheckFailed".equals(reasons.get(2).code()) && reasons.get(2).hasItem()
                        && !reasons.get(2).item().isEmpty()) {
                    return replayOf(c, reasons.get(2).item());
                }
                // another capture, a release or the expiry moved the hold, or a retry of this capture committed:
                // read again and decide again
                if (attempt >= MAX_ATTEMPTS) throw new StoreUnavailableException("capture kept conflicting", e);
                backoff(attempt);
            } catch (SdkException e) {
                throw new StoreUnavailableException("capture failed", e);
            }
        }
    }

    /** The answer to a capture whose id was recorded before: the first result, or a conflict if the body differs. */
    private HoldOutcome replayOf(Capture c, Map<String, AttributeValue> existing) {
        if (!c.requestHash().equals(Items.str(existing, "requestHash"))) return new HoldOutcome.IdempotencyConflict(c.captureId());
        return new HoldOutcome.Captured(Items.entry(existing), find(c.account(), c.holdId()), credits.get(c.account()).orElse(null), true);
    }

    private TransactWriteItem releaseEntry(AccountId account, String holdId, long released, Instant now, String reason) {
        Map<String, String> refs = new LinkedHashMap<>();
        refs.put("hold", holdId);
        refs.put("released", dev.credits.core.money.Credits.format(released));
        LedgerEntry entry = new LedgerEntry(account, "release#" + holdId, EntryType.RELEASE, 0, now, null, holdId, null,
                null, null, null, null, Map.of(), null, reason, null, refs);
        return TransactWriteItem.builder().put(Put.builder().tableName(ledger).item(Items.entry(entry))
                .conditionExpression("attribute_not_exists(pk)").build()).build();
    }

    /** Gives back what is left of an open hold: by the caller (RELEASED) or by the expiry (EXPIRED). */
    public HoldOutcome release(AccountId account, String holdId, Hold.Status as) {
        for (int attempt = 1; ; attempt++) {
            Hold h = find(account, holdId);
            if (h == null) return new HoldOutcome.HoldNotFound(holdId);
            if (h.status() != Hold.Status.OPEN) return new HoldOutcome.Released(h, 0, true);
            Instant now = now();
            long rest = h.remaining();
            Map<String, AttributeValue> av = new HashMap<>();
            av.put(":rest", n(rest));
            av.put(":now", s(now.toString()));
            av.put(":one", n(1));
            Update acct = Update.builder().tableName(accounts).key(Items.accountKey(account))
                    .updateExpression("SET held = held - :rest, spendable = spendable + :rest, updatedAt = :now, rev = rev + :one")
                    .conditionExpression("attribute_exists(accountId)").expressionAttributeValues(av).build();
            Update holdItem = Update.builder().tableName(ledger).key(Items.entryKey(account, holdSk(holdId)))
                    .updateExpression("SET holdRemaining = :zero, #s = :as REMOVE openBucket")
                    .conditionExpression("#s = :open AND holdRemaining = :rest")
                    .expressionAttributeNames(Map.of("#s", "status"))
                    .expressionAttributeValues(Map.of(":zero", n(0), ":as", s(as.name()), ":open", s(Hold.Status.OPEN.name()),
                            ":rest", n(rest))).build();
            String reason = as == Hold.Status.EXPIRED ? "hold expired at " + h.expiresAt() + ": rest released" : "released by the caller";
            try {
                dynamo.transactWriteItems(b -> b.clientRequestToken(UUID.randomUUID().toString()).transactItems(
                        TransactWriteItem.builder().update(acct).build(), TransactWriteItem.builder().update(holdItem).build(),
                        releaseEntry(account, holdId, rest, now, reason)));
                return new HoldOutcome.Released(find(account, holdId), rest, false);
            } catch (TransactionCanceledException e) {
                if (attempt >= MAX_ATTEMPTS) throw new StoreUnavailableException("release kept conflicting", e);
                backoff(attempt);
            } catch (SdkException e) {
                throw new StoreUnavailableException("release failed", e);
            }
        }
    }

    /** Releases every open hold whose time is up. Returns how many it released. */
    public int expireDue() {
        long now = clock.instant().getEpochSecond();
        int released = 0;
        for (int b = 0; b < OPEN_BUCKETS; b++) {
            String bucket = "open#" + b;
            Map<String, AttributeValue> start = null;
            do {
                Map<String, AttributeValue> from = start;
                var page = query(q -> {
                    q.tableName(ledger).indexName(OPEN_INDEX)
                            .keyConditionExpression("openBucket = :b AND holdExpiry <= :now")
                            .expressionAttributeValues(Map.of(":b", s(bucket), ":now", n(now)));
                    if (from != null) q.exclusiveStartKey(from);
                });
                for (Map<String, AttributeValue> item : page.items()) {
                    AccountId account = new AccountId(Keys.accountOfPk(item.get("pk").s()));
                    String holdId = item.get("sk").s().substring("hold#".length());
                    if (release(account, holdId, Hold.Status.EXPIRED) instanceof HoldOutcome.Released r && !r.replayed()) released++;
                }
                start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
            } while (start != null);
        }
        return released;
    }

    /** Releases every open hold of an account (before closing it). */
    public void releaseAll(AccountId account) {
        for (int shard = 0; shard < Keys.SHARDS; shard++) {
            String pk = Keys.shardPk(account, shard);
            var page = query(q -> q.tableName(ledger).consistentRead(true)
                    .keyConditionExpression("pk = :pk AND begins_with(sk, :h)")
                    .filterExpression("#s = :open")
                    .expressionAttributeNames(Map.of("#s", "status"))
                    .expressionAttributeValues(Map.of(":pk", s(pk), ":h", s("hold#"), ":open", s(Hold.Status.OPEN.name()))));
            for (Map<String, AttributeValue> item : page.items()) {
                release(account, item.get("sk").s().substring("hold#".length()), Hold.Status.RELEASED);
            }
            if (page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty()) shard--; // more on this shard: again
        }
    }

    private software.amazon.awssdk.services.dynamodb.model.QueryResponse query(
            java.util.function.Consumer<software.amazon.awssdk.services.dynamodb.model.QueryRequest.Builder> q) {
        try {
            return dynamo.query(q);
        } catch (SdkException e) {
            throw new StoreUnavailableException("hold query failed", e);
        }
    }

    static Hold hold(Map<String, AttributeValue> m) {
        LedgerEntry e = Items.entry(m);
        EntryType feature = EntryType.fromWire(Items.str(m, "feature")).orElse(EntryType.AI_TOKENS);
        return new Hold(e.accountId(), e.eventId(), feature, e.model(), e.inputTokens(),
                feature == EntryType.AI_TOKENS ? e.outputTokens() : null, e.unitKind(), e.units(),
                Items.longOf(m, "held"), Items.longOf(m, "captured"), Items.longOf(m, "holdRemaining"),
                Hold.Status.valueOf(m.get("status").s()), e.recordedAt(), Instant.parse(m.get("expiresAtIso").s()),
                e.rates(), e.priceBookVersion());
    }

    private static void backoff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(2, 10L << attempt));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted", ie);
        }
    }
}
